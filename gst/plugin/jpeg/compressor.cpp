/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "jpeg/compressor.h"

#include <cstdlib>
#include <utility>

#include "jpeg/error.h"

namespace zcbuf::jpeg {

struct Compressor::Impl {
	struct jpeg_compress_struct cinfo;
	ErrorManager errors;
	/* jpeg_mem_dest()'s buffer (malloc'd by libjpeg); members, so that
	 * it can be freed after a longjmp. */
	unsigned char *buffer = nullptr;
	unsigned long size = 0;

	Impl()
	{
		installErrorManager(reinterpret_cast<j_common_ptr>(&cinfo), &errors);
		jpeg_create_compress(&cinfo);
	}

	~Impl()
	{
		jpeg_destroy_compress(&cinfo);
		std::free(buffer);
	}

	void writeRows(const zcbuf::image::ThumbnailImage &image);
};

/* Called between setjmp() and the end of the image: no objects with
 * destructors here (see jpegerror.h). */
void Compressor::Impl::writeRows(const zcbuf::image::ThumbnailImage &image)
{
	JSAMPROW rows[3][16];
	JSAMPARRAY planes[3] = { rows[0], rows[1], rows[2] };
	const int lines = image.gray ? 8 : 16;
	for (int group = 0; cinfo.next_scanline < cinfo.image_height; group++) {
		for (int j = 0; j < lines; j++)
			rows[0][j] = const_cast<JSAMPLE *>(image.y.data()) +
				     static_cast<std::ptrdiff_t>(group * lines + j) * image.lumaStride;
		if (!image.gray) {
			for (int j = 0; j < 8; j++) {
				std::ptrdiff_t offset =
					static_cast<std::ptrdiff_t>(group * 8 + j) * image.chromaStride;
				rows[1][j] = const_cast<JSAMPLE *>(image.u.data()) + offset;
				rows[2][j] = const_cast<JSAMPLE *>(image.v.data()) + offset;
			}
		}
		jpeg_write_raw_data(&cinfo, planes, static_cast<JDIMENSION>(lines));
	}
}

Compressor::Compressor() : impl_(std::make_unique<Impl>()) {}

Compressor::~Compressor() = default;

bool Compressor::compress(const zcbuf::image::ThumbnailImage &image, int quality,
			  std::vector<std::uint8_t> *out, std::string *error)
{
	Impl &d = *impl_;
	resetErrorManager(&d.errors);
	if (setjmp(d.errors.jump)) {
		jpeg_abort_compress(&d.cinfo);
		error->assign(d.errors.message);
		return false;
	}
	/* A fresh buffer each time: jpeg_mem_dest() would grow a reused one
	 * without freeing it. */
	std::free(std::exchange(d.buffer, nullptr));
	d.size = 0;
	jpeg_mem_dest(&d.cinfo, &d.buffer, &d.size);
	d.cinfo.image_width = static_cast<JDIMENSION>(image.width);
	d.cinfo.image_height = static_cast<JDIMENSION>(image.height);
	d.cinfo.input_components = image.gray ? 1 : 3;
	d.cinfo.in_color_space = image.gray ? JCS_GRAYSCALE : JCS_YCbCr;
	jpeg_set_defaults(&d.cinfo);
	jpeg_set_quality(&d.cinfo, quality, TRUE);
	d.cinfo.raw_data_in = TRUE;
	d.cinfo.dct_method = JDCT_ISLOW;
	if (!image.gray) {
		d.cinfo.comp_info[0].h_samp_factor = 2;
		d.cinfo.comp_info[0].v_samp_factor = 2;
		for (int c = 1; c < 3; c++)
			d.cinfo.comp_info[c].h_samp_factor = d.cinfo.comp_info[c].v_samp_factor = 1;
	}
	jpeg_start_compress(&d.cinfo, TRUE);
	d.writeRows(image);
	jpeg_finish_compress(&d.cinfo);
	out->assign(d.buffer, d.buffer + d.size);
	std::free(std::exchange(d.buffer, nullptr));
	d.size = 0;
	return true;
}

} /* namespace zcbuf::jpeg */
