from django.urls import path

from common.tests.admin_site import site

urlpatterns = [path("admin/", site.urls)]
