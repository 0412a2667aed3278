"""Tasks: what a run trains and how it is scored.

    base            the Task protocol the trainer's loop calls
    classification  one label per text
    tokens          one BIO tag per word (named-entity recognition)
    chat            instruction SFT of causal LMs: loss on the assistant's tokens, generation
    metrics         EvalResult and the metrics behind it (scikit-learn)
    registry        one TaskSpec per task; everything that depends on the task asks it

Tasks use the data and models packages; they know no trainer or config.
"""
