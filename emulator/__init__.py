"""A stand-in for the platforms, serving recorded real responses. Imports nothing of weidang."""
