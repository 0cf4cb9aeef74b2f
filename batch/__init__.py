"""A local SageMaker batch transform: split files by line into MultiRecord mini-batches, post them, reassemble."""
