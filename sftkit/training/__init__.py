"""Training: the loop (`trainer`), its events and callbacks, resumable checkpoints, several processes
through torch.distributed (`distributed`), and the trackers a run reports to (TensorBoard, MLflow).
"""
