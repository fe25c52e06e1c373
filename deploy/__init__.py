"""How Stampede is deployed: nginx, gunicorn, supervisord and Prometheus files, and `make stack` (stack.py)."""
