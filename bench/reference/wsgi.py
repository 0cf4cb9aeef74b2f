"""NOT PRODUCT CODE — benchmark reference only: gunicorn's entry, as in the original system."""

from bench.reference import predictor as myapp

app = myapp.app
