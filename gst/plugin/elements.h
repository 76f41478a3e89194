/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gst/gst.h>

/* Registers every element of the plugin (elements.cpp lists them). */
gboolean zcbuf_register_elements(GstPlugin *plugin);
