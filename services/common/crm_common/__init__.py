"""Shared infrastructure for the CRM services.

Infrastructure only: no domain model lives here and nothing here imports a service.
"""
