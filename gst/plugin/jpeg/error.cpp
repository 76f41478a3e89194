/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "jpeg/error.h"

#include <jerror.h>

namespace zcbuf::jpeg {

namespace {

ErrorManager *managerOf(j_common_ptr cinfo)
{
	return reinterpret_cast<ErrorManager *>(cinfo->err);
}

[[noreturn]] void errorExit(j_common_ptr cinfo)
{
	ErrorManager *manager = managerOf(cinfo);
	(*cinfo->err->format_message)(cinfo, manager->message);
	std::longjmp(manager->jump, 1);
}

bool isCorruption(int code)
{
	switch (code) {
	case JWRN_HIT_MARKER:
	case JWRN_JPEG_EOF:
	case JWRN_MUST_RESYNC:
	case JWRN_HUFF_BAD_CODE:
	case JWRN_ARITH_BAD_CODE:
	case JWRN_NOT_SEQUENTIAL:
	case JWRN_BOGUS_PROGRESSION:
		return true;
	default:
		return false;
	}
}

void emitMessage(j_common_ptr cinfo, int level)
{
	/* Level -1 is a warning; higher levels are trace messages. Nothing
	 * is printed: the callers turn corruption into decoder errors and
	 * log the rest. */
	if (level != -1)
		return;
	cinfo->err->num_warnings++;
	if (!isCorruption(cinfo->err->msg_code))
		return;
	ErrorManager *manager = managerOf(cinfo);
	if (manager->corruptWarnings++ == 0)
		(*cinfo->err->format_message)(cinfo, manager->message);
}

void outputMessage(j_common_ptr) {}

const JOCTET kEoi[2] = { 0xff, JPEG_EOI };

void initSource(j_decompress_ptr) {}

boolean fillInputBuffer(j_decompress_ptr cinfo)
{
	MemorySource *source = reinterpret_cast<MemorySource *>(cinfo->src);
	if (source->eoiInserted)
		ERREXIT(cinfo, JERR_INPUT_EOF);
	source->eoiInserted = true;
	source->pub.next_input_byte = kEoi;
	source->pub.bytes_in_buffer = sizeof(kEoi);
	return TRUE;
}

void skipInputData(j_decompress_ptr cinfo, long count)
{
	if (count <= 0)
		return;
	struct jpeg_source_mgr *src = cinfo->src;
	std::size_t left = static_cast<std::size_t>(count);
	while (left > src->bytes_in_buffer) {
		left -= src->bytes_in_buffer;
		fillInputBuffer(cinfo);
	}
	src->next_input_byte += left;
	src->bytes_in_buffer -= left;
}

void termSource(j_decompress_ptr) {}

} /* namespace */

void installErrorManager(j_common_ptr cinfo, ErrorManager *manager)
{
	cinfo->err = jpeg_std_error(&manager->pub);
	manager->pub.error_exit = errorExit;
	manager->pub.emit_message = emitMessage;
	manager->pub.output_message = outputMessage;
	resetErrorManager(manager);
}

void resetErrorManager(ErrorManager *manager)
{
	manager->pub.num_warnings = 0;
	manager->corruptWarnings = 0;
	manager->message[0] = '\0';
}

void setMemorySource(j_decompress_ptr cinfo, MemorySource *source, const unsigned char *data,
		     std::size_t size)
{
	source->pub.init_source = initSource;
	source->pub.fill_input_buffer = fillInputBuffer;
	source->pub.skip_input_data = skipInputData;
	source->pub.resync_to_restart = jpeg_resync_to_restart;
	source->pub.term_source = termSource;
	source->pub.next_input_byte = data;
	source->pub.bytes_in_buffer = size;
	source->data = data;
	source->size = size;
	source->eoiInserted = false;
	cinfo->src = &source->pub;
}

} /* namespace zcbuf::jpeg */
