"""Bridges from external buses to the core's internal register bus."""
