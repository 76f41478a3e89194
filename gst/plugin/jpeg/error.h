/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libjpeg's error handling for the plugin's JPEG code (zcjpegdec and
 * zcthumbnail). libjpeg reports fatal errors through error_exit(), which
 * must not return; exceptions cannot cross libjpeg's C frames, so it jumps
 * back with longjmp() to a setjmp() in the caller. longjmp() skips the
 * frames between, so the functions that call setjmp() keep no C++ objects
 * with destructors alive across the libjpeg calls they guard.
 */
#pragma once

#include <csetjmp>
#include <cstddef>
#include <cstdio>

#include <jpeglib.h>

namespace zcbuf::jpeg {

struct ErrorManager {
	/* First member: libjpeg casts cinfo->err to it. */
	struct jpeg_error_mgr pub;
	std::jmp_buf jump;
	/* Warnings that mean the entropy-coded data is damaged or cut short
	 * (libjpeg would decode such data to grey blocks and carry on). */
	int corruptWarnings;
	/* The fatal error, or else the first corruption warning. */
	char message[JMSG_LENGTH_MAX];
};

/* Points cinfo->err at @manager, set up as above; call before
 * jpeg_create_(de)compress(). */
void installErrorManager(j_common_ptr cinfo, ErrorManager *manager);

/* Clears the warning count and message before a new image. */
void resetErrorManager(ErrorManager *manager);

/*
 * A source manager over one image in memory. Many MJPEG cameras omit the
 * final EOI marker, so when the data runs out the source supplies one EOI
 * (as jpegdec appends one); if libjpeg still needed entropy-coded data it
 * warns with JWRN_HIT_MARKER, which the error manager counts as corruption.
 * Running out a second time is a fatal JERR_INPUT_EOF.
 */
struct MemorySource {
	struct jpeg_source_mgr pub;
	const JOCTET *data;
	std::size_t size;
	bool eoiInserted;
};

/* Installs @source on @cinfo reading @size bytes at @data (the data must
 * stay valid until the image is finished or aborted). */
void setMemorySource(j_decompress_ptr cinfo, MemorySource *source, const unsigned char *data,
		     std::size_t size);

} /* namespace zcbuf::jpeg */
