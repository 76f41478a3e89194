/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * zcjpegdec against the MJPEG decoders a user would otherwise pick, jpegdec
 * (libjpeg-turbo) and avdec_mjpeg (FFmpeg), and against libjpeg-turbo
 * itself with no GStreamer around it, on a 1080p MJPEG clip held in memory
 * (bench::recordZonePlate), 4:2:0 and 4:2:2 (what webcams send), into
 * fakesink.
 *
 * Threads: zcjpegdec runs with n-threads 1 and 2, avdec_mjpeg with
 * max-threads 1 and 2 where FFmpeg can thread MJPEG (the element only has
 * the property then); a decoder without threads is measured once and that
 * measurement stands at both thread counts. avdec_mjpeg takes only parsed
 * JPEG, so jpegparse goes before it, as in a user's pipeline. libjpeg-turbo alone decodes
 * the same frames on this thread the way zcjpegdec configures it (raw
 * planes, the fast integer IDCT, no fancy upsampling): the limit of a
 * one-thread libjpeg-turbo decoder.
 *
 * Per-frame latency, from entering the decoder to reaching the sink, twice:
 * with frames pushed as fast as the pipeline takes them (frames waiting in
 * a frame-parallel decoder count), and at a camera's 30 frames/s, where a
 * decoder that holds frames back shows it.
 *
 * The subjects alternate within every repetition, on the same buffers;
 * frames/s are each subject's best repetition, latencies the median frame.
 *
 * Restart intervals: the 4:2:0 clip again with a restart marker after every
 * MCU row (transcoded losslessly, as `jpegtran -restart 1B` would; cameras
 * often set DRI), at the camera's pace, where a frame's latency is its
 * decode time: zcjpegdec on one thread, parallel=restart-intervals on two
 * (one frame's rows split across both) and parallel=frames on two.
 */
#include <csetjmp>
#include <cstdio>
#include <cstdlib>

#include <jpeglib.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include <gst/gst.h>

#include "bench_gst_common.h"
#include "bench_output.h"

namespace {

/* libjpeg-turbo decoding frames into planes of its own, configured as
 * zcjpegdec configures it. */
class PlainDecoder {
public:
	PlainDecoder()
	{
		cinfo_.err = jpeg_std_error(&errors_);
		errors_.error_exit = [](j_common_ptr cinfo) {
			char message[JMSG_LENGTH_MAX];
			(*cinfo->err->format_message)(cinfo, message);
			bench::fail(std::string("libjpeg-turbo: ") + message);
		};
		jpeg_create_decompress(&cinfo_);
	}
	PlainDecoder(const PlainDecoder &) = delete;
	~PlainDecoder() { jpeg_destroy_decompress(&cinfo_); }

	void decode(GstBuffer *frame)
	{
		GstMapInfo map;
		if (!gst_buffer_map(frame, &map, GST_MAP_READ))
			bench::fail("cannot map a JPEG frame");
		jpeg_mem_src(&cinfo_, map.data, map.size);
		jpeg_read_header(&cinfo_, TRUE);
		cinfo_.raw_data_out = TRUE;
		cinfo_.out_color_space = cinfo_.jpeg_color_space;
		cinfo_.do_fancy_upsampling = FALSE;
		cinfo_.do_block_smoothing = FALSE;
		cinfo_.dct_method = JDCT_IFAST;
		jpeg_start_decompress(&cinfo_);
		const int groupLines = cinfo_.max_v_samp_factor * DCTSIZE;
		const int components = cinfo_.num_components;
		if (components > 3)
			bench::fail("libjpeg-turbo: more than 3 components");
		/* Planes rounded up to whole block rows, so that the last row
		 * group has somewhere to go. */
		for (int c = 0; c < components; c++) {
			const jpeg_component_info &info = cinfo_.comp_info[c];
			std::size_t stride = info.width_in_blocks * DCTSIZE;
			std::size_t rows = info.height_in_blocks * DCTSIZE + info.v_samp_factor * DCTSIZE;
			if (planes_[c].size() < stride * rows)
				planes_[c].resize(stride * rows);
			strides_[c] = stride;
		}
		while (cinfo_.output_scanline < cinfo_.output_height) {
			unsigned group = cinfo_.output_scanline / groupLines;
			for (int c = 0; c < components; c++) {
				const jpeg_component_info &info = cinfo_.comp_info[c];
				int rows = info.v_samp_factor * DCTSIZE;
				rowPointers_[c].resize(rows);
				for (int j = 0; j < rows; j++)
					rowPointers_[c][j] = planes_[c].data() +
							     (group * rows + j) * strides_[c];
				arrays_[c] = rowPointers_[c].data();
			}
			jpeg_read_raw_data(&cinfo_, arrays_, groupLines);
		}
		jpeg_finish_decompress(&cinfo_);
		gst_buffer_unmap(frame, &map);
	}

private:
	jpeg_decompress_struct cinfo_{};
	jpeg_error_mgr errors_{};
	std::vector<JSAMPLE> planes_[3];
	std::size_t strides_[3] = {};
	std::vector<JSAMPROW> rowPointers_[3];
	JSAMPARRAY arrays_[3] = {};
};

/* @jpeg with a restart marker after every MCU row, the same coefficients
 * (libjpeg's lossless transcoding). */
GstBuffer *withRestartMarkers(GstBuffer *jpeg)
{
	jpeg_decompress_struct in{};
	jpeg_compress_struct out{};
	jpeg_error_mgr errors{};
	errors.error_exit = [](j_common_ptr cinfo) {
		char message[JMSG_LENGTH_MAX];
		(*cinfo->err->format_message)(cinfo, message);
		bench::fail(std::string("libjpeg-turbo transcoding: ") + message);
	};
	in.err = jpeg_std_error(&errors);
	errors.error_exit = in.err->error_exit;
	out.err = in.err;
	jpeg_create_decompress(&in);
	jpeg_create_compress(&out);
	GstMapInfo map;
	if (!gst_buffer_map(jpeg, &map, GST_MAP_READ))
		bench::fail("cannot map a JPEG frame");
	jpeg_mem_src(&in, map.data, map.size);
	jpeg_read_header(&in, TRUE);
	jvirt_barray_ptr *coefficients = jpeg_read_coefficients(&in);
	unsigned char *bytes = nullptr;
	unsigned long size = 0;
	jpeg_mem_dest(&out, &bytes, &size);
	jpeg_copy_critical_parameters(&in, &out);
	out.restart_in_rows = 1;
	jpeg_write_coefficients(&out, coefficients);
	jpeg_finish_compress(&out);
	jpeg_finish_decompress(&in);
	gst_buffer_unmap(jpeg, &map);
	jpeg_destroy_compress(&out);
	jpeg_destroy_decompress(&in);
	GstBuffer *result = gst_buffer_new_memdup(bytes, size);
	std::free(bytes);
	gst_buffer_copy_into(result, jpeg, GST_BUFFER_COPY_METADATA, 0, -1);
	return result;
}

/* zcjpegdec's one-frame latency with and without restart-interval bands. */
void benchRestartIntervals(const bench::Clip &clip, int frames, double fps, int repetitions)
{
	bench::Clip restarts;
	restarts.caps = gst_caps_ref(clip.caps);
	for (int i = 0; i < frames; i++)
		restarts.frames.push_back(withRestartMarkers(clip.frames[i]));
	const std::vector<std::pair<std::string, std::string>> list = {
		{ "zcjpegdec, 1 thread", "zcjpegdec name=dec n-threads=1" },
		{ "zcjpegdec parallel=restart-intervals, 2 threads",
		  "zcjpegdec name=dec parallel=restart-intervals n-threads=2" },
		{ "zcjpegdec parallel=frames, 2 threads", "zcjpegdec name=dec n-threads=2" },
	};
	std::vector<std::vector<double>> latencies(list.size()), rates(list.size());
	for (int r = 0; r < repetitions; r++)
		for (std::size_t s = 0; s < list.size(); s++) {
			bench::PipelineRun paced = bench::runPipeline(restarts, list[s].second, fps);
			latencies[s].insert(latencies[s].end(), paced.latenciesMs.begin(),
					    paced.latenciesMs.end());
			rates[s].push_back(bench::runPipeline(restarts, list[s].second).framesPerSecond);
		}
	const std::string name = "1080p 4:2:0 MJPEG, a restart marker every MCU row";
	for (std::size_t s = 0; s < list.size(); s++) {
		bench::report("jpeg-restart-latency",
			      name + ", camera pace " + std::to_string(int(fps)) + " frames/s",
			      list[s].first, bench::medianOf(latencies[s]), "ms a frame", "lower");
		bench::report("jpeg-restart-decode", name, list[s].first, bench::bestOf(rates[s]),
			      "frames/s", "higher");
	}
}

/* Frames per second and each frame's decode time (ms) of one pass. */
bench::PipelineRun decodeAlone(PlainDecoder &decoder, const bench::Clip &clip)
{
	using Clock = std::chrono::steady_clock;
	bench::PipelineRun run;
	auto start = Clock::now();
	for (GstBuffer *frame : clip.frames) {
		auto before = Clock::now();
		decoder.decode(frame);
		run.latenciesMs.push_back(
			std::chrono::duration<double, std::milli>(Clock::now() - before).count());
	}
	std::chrono::duration<double> elapsed = Clock::now() - start;
	run.framesPerSecond = clip.frames.size() / elapsed.count();
	return run;
}

struct Subject {
	std::string name;  /* as reported */
	std::string chain; /* empty: libjpeg-turbo alone */
	std::vector<int> threads; /* the thread counts this measurement stands for */
};

bool hasProperty(const char *element, const char *property)
{
	GstElement *probe = gst_element_factory_make(element, nullptr);
	if (!probe)
		bench::fail(std::string("element ") + element + " is missing");
	bool has = g_object_class_find_property(G_OBJECT_GET_CLASS(probe), property) != nullptr;
	gst_object_unref(probe);
	return has;
}

std::vector<Subject> subjects()
{
	std::vector<Subject> list = {
		{ "jpegdec", "jpegdec name=dec", { 1, 2 } },
		{ "zcjpegdec", "zcjpegdec name=dec n-threads=1", { 1 } },
		{ "zcjpegdec", "zcjpegdec name=dec n-threads=2", { 2 } },
	};
	if (hasProperty("avdec_mjpeg", "max-threads")) {
		list.push_back({ "avdec_mjpeg", "jpegparse ! avdec_mjpeg name=dec max-threads=1", { 1 } });
		list.push_back({ "avdec_mjpeg", "jpegparse ! avdec_mjpeg name=dec max-threads=2", { 2 } });
	} else {
		/* Debian 12's FFmpeg 5.1 has no MJPEG threading: gst-libav
		 * then has no max-threads property. */
		std::fprintf(stderr, "avdec_mjpeg has no max-threads: one thread only\n");
		list.push_back({ "avdec_mjpeg (no threads)", "jpegparse ! avdec_mjpeg name=dec", { 1, 2 } });
	}
	list.push_back({ "libjpeg-turbo alone", "", { 1 } });
	return list;
}

} /* namespace */

int main(int argc, char **argv)
{
	gst_init(&argc, &argv);
	for (const char *element :
	     { "zcjpegdec", "jpegdec", "avdec_mjpeg", "jpegparse", "jpegenc", "videotestsrc" })
		bench::requireElement(element);

	const int frames = bench::slow() ? 20 : 200;
	const int pacedFrames = bench::slow() ? 6 : 30;
	const double cameraFps = 30.0;
	const int repetitions = bench::slow() ? 1 : 5;
	const std::vector<std::pair<std::string, std::string>> samplings = {
		{ "4:2:0", "I420" },
		{ "4:2:2", "Y42B" },
	};
	const std::vector<Subject> list = subjects();
	PlainDecoder plain;

	for (const auto &[sampling, format] : samplings) {
		bench::Clip clip;
		bench::recordZonePlate(frames, format, &clip);
		bench::Clip paced;
		paced.caps = gst_caps_ref(clip.caps);
		for (int i = 0; i < pacedFrames; i++)
			paced.frames.push_back(gst_buffer_ref(clip.frames[i]));

		std::vector<std::vector<double>> rates(list.size()), latencies(list.size()),
			pacedLatencies(list.size());
		for (int r = 0; r < repetitions; r++)
			for (std::size_t s = 0; s < list.size(); s++) {
				bench::PipelineRun run = list[s].chain.empty()
								 ? decodeAlone(plain, clip)
								 : bench::runPipeline(clip, list[s].chain);
				rates[s].push_back(run.framesPerSecond);
				latencies[s].insert(latencies[s].end(), run.latenciesMs.begin(),
						    run.latenciesMs.end());
			}
		for (std::size_t s = 0; s < list.size(); s++) {
			bench::PipelineRun run = list[s].chain.empty()
							 ? decodeAlone(plain, paced)
							 : bench::runPipeline(paced, list[s].chain, cameraFps);
			pacedLatencies[s] = run.latenciesMs;
		}

		if (format == std::string("I420"))
			benchRestartIntervals(clip, pacedFrames, cameraFps, repetitions);

		const std::string clipName = "1080p " + sampling + " MJPEG";
		for (int threads : { 1, 2 }) {
			std::string name = clipName + ", " + bench::threadsText(threads);
			for (std::size_t s = 0; s < list.size(); s++) {
				const Subject &subject = list[s];
				if (std::find(subject.threads.begin(), subject.threads.end(), threads) ==
				    subject.threads.end())
					continue;
				bool alone = subject.chain.empty();
				bench::report("jpeg-decode", name, subject.name, bench::bestOf(rates[s]),
					      "frames/s", "higher",
					      alone ? bench::Role::Limit : bench::Role::Subject);
				bench::report("jpeg-latency", name + ", as fast as it goes", subject.name,
					      bench::medianOf(latencies[s]), "ms a frame", "lower");
				bench::report("jpeg-latency",
					      name + ", camera pace " + std::to_string(int(cameraFps)) +
						      " frames/s",
					      subject.name, bench::medianOf(pacedLatencies[s]),
					      "ms a frame", "lower");
			}
		}
	}
	gst_deinit();
	return 0;
}
