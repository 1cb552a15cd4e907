"""callslots"""
