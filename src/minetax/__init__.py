"""minetax: estimate tax revenue from cryptocurrency mining (Kazakhstan lead case)."""

__version__ = "0.1.0"
