"""Forecast: future budget years with probability bands, from the warehouse and the one rate model."""
