"""Safe I/O and text from outside: the bottom layer, which every other one may use."""
