"""Visualization, attribution, synthesis and adversarial attacks (see the open issues)."""
