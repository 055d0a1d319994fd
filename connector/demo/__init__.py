"""The demo dataspace."""
