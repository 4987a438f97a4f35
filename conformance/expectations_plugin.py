"""(being written)"""

def pytest_addoption(parser):
    pass
