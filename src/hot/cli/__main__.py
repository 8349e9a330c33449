from hot.cli import main

main()
