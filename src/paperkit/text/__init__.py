"""Text: inline markup, math (set as text or drawn), and the shipped fonts with the characters they cover."""
