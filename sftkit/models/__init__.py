"""Models: pretrained encoders with a fresh classification head (`classifiers`), causal LMs for chat SFT
(`causal_lm`), and LoRA adapters through peft (`lora`). They read the zoo (`sftkit.data.zoo`) and know
no task, trainer or config.
"""
