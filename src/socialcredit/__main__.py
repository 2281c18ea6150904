from socialcredit.cli import main

main()
