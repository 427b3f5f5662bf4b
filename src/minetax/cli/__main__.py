"""python -m minetax.cli"""

from minetax.cli.main import main

main()
