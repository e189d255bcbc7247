#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Generates ./configure from configure.ac (needs autoconf >= 2.69, automake >= 1.16, libtool).
set -e
cd "$(dirname "$0")"
mkdir -p m4 build-aux
autoreconf --install --force --warnings=all
