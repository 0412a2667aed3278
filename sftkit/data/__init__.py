"""The data side: everything before a batch reaches a model.

    files          read local CSV/TSV/JSON/JSONL/Parquet files and folders, check columns, map labels
    tagged         tagged words (JSONL, CSV, CoNLL, ...) for token classification, checked by row and column
    splits         labelled datasets, seeded stratified train/validation/test splits and subsets
    zoo            the offline zoo: models and datasets shipped inside installed packages
    made           small data sets made by the project (tagged sentences, instructions)
    translations   made English -> French sentence pairs as chat rows, with held-out words and combinations
    augment        EDA-style text augmentation (deletion, swap, insertion), labels and originals kept
    conversations  chat data: `messages` columns read and checked
    spans          entity spans of BIO tag sequences
    batches        tokenized splits, length-grouped batches, padding, the ignore index
    masks          attention masks made on the host

Nothing here imports a model, a task or the trainer.
"""
