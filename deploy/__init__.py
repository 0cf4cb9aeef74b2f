"""Ship the image and a model to SageMaker: package a model directory, create or update the endpoint, autoscale it,
run batch transform jobs, and find the ECR repository to push to. Entry point: `python -m deploy --help`."""
