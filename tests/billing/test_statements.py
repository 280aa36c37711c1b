"""Monthly statements: content, acknowledged days, compensation, the three formats."""

import csv
import io
import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from openpyxl_absent import _  # noqa: F401  (placeholder replaced below)
