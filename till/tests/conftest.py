# A terminal of a store of a programme, driven over HTTP as the API's tests drive it.
from api.tests.conftest import till  # noqa: F401  (programme and store are the shared fixtures)
