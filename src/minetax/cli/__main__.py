"""python -m minetax.cli"""

from minetax.cli.app import main

main()
