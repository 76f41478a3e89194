/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <zcbuf/result.h>

#include <cstring>

namespace zcbuf {

Error Error::fromErrno(int code, const std::string &context)
{
	return Error(code, context + ": " + std::strerror(code));
}

} /* namespace zcbuf */
