"""NOT PRODUCT CODE. The benchmark's reference server: the original system's serving pattern (nginx -> gunicorn sync
workers -> flask, predictor.py with pandas parsing), kept only to measure the product against it."""
