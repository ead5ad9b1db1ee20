"""Session API: a small Flask service that keeps user sessions in DynamoDB.

This package's ``__init__`` stays free of Flask and boto3 imports on purpose:
the Pulumi program imports :mod:`session_api.table` (as ``app.session_api.table``)
and must not need the web stack installed to do so.

Entry points:

* ``session_api.wsgi:app`` -- the WSGI application gunicorn serves.
* ``session_api.gunicorn_conf`` -- gunicorn settings (``-c python:session_api.gunicorn_conf``).
* ``python -m session_api.local`` -- a local run against a moto server, no AWS account.
"""
