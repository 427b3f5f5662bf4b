"""Tax: schemes and scenarios (policy as data), the rate rules, estimates, baseline vs reform."""
