#!/usr/bin/env python
from tuoke.cli import main

if __name__ == "__main__":
    main()
