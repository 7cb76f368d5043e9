"""HTTP surfaces of the commerce domain, one module per protocol part."""
