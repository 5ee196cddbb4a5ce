"""Spiders: thin request makers; pages go to parsers/, items to the pipelines."""
