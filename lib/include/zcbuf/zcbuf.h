/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libzcbuf: everything an application needs. */
#pragma once

#include <zcbuf/backend.h>
#include <zcbuf/backend_choice.h>
#include <zcbuf/buffer.h>
#include <zcbuf/constraints.h>
#include <zcbuf/cpu_access.h>
#include <zcbuf/fd_passing.h>
#include <zcbuf/ipc_channel.h>
#include <zcbuf/ipc_protocol.h>
#include <zcbuf/ipc_session.h>
#include <zcbuf/result.h>
#include <zcbuf/statistics.h>
#include <zcbuf/unique_fd.h>
