"""The page django-axes answers once sign-ins are locked out (settings.AXES_LOCKOUT_CALLABLE): 429."""
import math

from axes.helpers import get_cool_off
from django.conf import settings
from django.contrib import admin
from django.shortcuts import render


def lockout_response(request, original_response=None, credentials=None):
    cool_off = get_cool_off(request)
    minutes = max(1, math.ceil(cool_off.total_seconds() / 60)) if cool_off else None
    context = {**admin.site.each_context(request), "title": "Sign-in locked", "minutes": minutes}
    return render(request, "admin/locked_out.html", context, status=settings.AXES_HTTP_RESPONSE_CODE)
