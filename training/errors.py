"""The one error a training job reports: a sentence naming the file, line and column at fault."""


class TrainingError(ValueError):
    """Training cannot go on; the message is written to output/failure (no applicant values in it)."""
