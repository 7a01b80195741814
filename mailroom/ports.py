"""What the use-cases and the adapters share: the values and protocols at their seam."""
