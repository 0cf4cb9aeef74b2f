"""What MMS loads in each worker: the handler service, the four SageMaker functions, busy flag, logs."""
