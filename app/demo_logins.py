"""Prints the demo logins after `make run` has loaded them."""

from app.demo import DEMO_PASSWORD, demo_logins

if __name__ == "__main__":
    print(f"\nDemo logins (password for all: {DEMO_PASSWORD}):")
    for role, username in demo_logins():
        print(f"  {role:<12} {username}")
    print()
