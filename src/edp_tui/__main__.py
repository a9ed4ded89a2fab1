from edp_tui.cli import main

main()
