"""Simulation: synthetic populations and (later) policy simulation at national scale."""
