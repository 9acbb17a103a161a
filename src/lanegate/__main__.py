from lanegate.cli import main

main()
