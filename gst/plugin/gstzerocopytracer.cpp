/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Bookkeeping: every link's counters live in a LinkStats shared by the
 * source pad (through qdata: cheap on the streaming thread, and gone with
 * the pad) and the Run it belongs to. A Run gathers the links and copies of
 * one top-level element (a pipeline, or a lone element in a GstHarness)
 * until it goes to NULL; then its table is printed and the run closed and
 * freed, so the next run of the same pipeline starts afresh, every run is
 * printed exactly once, and the tracer's memory stays bounded by the runs
 * open and the pads alive however many runs a process makes. Runs still open at gst_deinit() (the tracer's
 * finalize) or at exit (atexit, for applications that never call
 * gst_deinit()) are printed then.
 *
 * Copies arrive from gstzcbufcopy.h's listener on the copying thread. A
 * copy without an element (gst_memory_copy() of zcbuf memory) is charged to
 * the element whose chain, event or query function runs on that thread,
 * known from the push and query hooks: the innermost one is the code that
 * copied (a sink answering an ALLOCATION query while a converter
 * renegotiates is the sink, not the converter). A copy made while an
 * element handles a query says so in its reason; basesink's is named for
 * what it is: on an ALLOCATION query it deep-copies the last sample it
 * keeps, so that the old pool's buffers can go. What runs outside any push
 * or query (an element's own thread) stays "(unknown)", in a run of its own.
 */
#include "gstzerocopytracer.h"

#include <gst/allocators/allocators.h>
#include <gst/base/gstbasesink.h>
#include <gst/zcbuf/gstzcbufcopy.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

GST_DEBUG_CATEGORY_STATIC(gst_zerocopy_tracer_debug);
#define GST_CAT_DEFAULT gst_zerocopy_tracer_debug

namespace {

enum Kind { Dmabuf = 0, Fd = 1, System = 2, Kinds = 3 };

struct LinkStats {
	/* Set when its run is closed: the pad then starts a new one. */
	std::atomic<bool> closed{ false };
	std::string name; /* "src-element:pad -> sink-element:pad" */
	GstElement *source; /* for copies; never dereferenced */
	/* The source element's chosen-backend spec when the link opened (a
	 * zcbuf producer), else "-". */
	std::string memory = "-";
	std::atomic<guint64> buffers[Kinds]{};
	std::atomic<guint64> bytes[Kinds]{};
};

struct Copies {
	std::string element;
	guint64 copies = 0, bytes = 0;
	std::map<std::string, guint64> reasons;
};

struct Run {
	GstElement *top; /* never dereferenced */
	std::string name;
	std::vector<std::shared_ptr<LinkStats>> links;
	std::map<GstElement *, Copies> copies;
	Copies unattributed;
};

/* What a pad's qdata points at. */
struct PadLink {
	std::shared_ptr<LinkStats> stats;
	GstPad *peer;
};

struct TracerState {
	std::mutex mutex;
	/* The open runs; a run is freed once printed. */
	std::map<GstElement *, std::unique_ptr<Run>> open;
	std::string file;
	bool toStderr = true;
	gulong listener = 0;
};

/* An element's code running on this thread: its chain or event function
 * (query == nullptr) or its query function. */
struct Running {
	GstElement *element;
	GstQuery *query;
};

/* What runs on this thread, innermost last. */
thread_local std::vector<Running> running;

GQuark linkQuark()
{
	static GQuark quark = g_quark_from_static_string("GstZerocopyTracerLink");
	return quark;
}

/* The live tracer, for the atexit report. */
std::atomic<GstZerocopyTracer *> liveTracer{ nullptr };

} /* namespace */

struct _GstZerocopyTracer {
	GstTracer parent;
	TracerState *state;
};

G_DEFINE_TYPE(GstZerocopyTracer, gst_zerocopy_tracer, GST_TYPE_TRACER)

namespace {

GstElement *topLevel(GstObject *object)
{
	GstObject *top = object;
	while (top && GST_OBJECT_PARENT(top))
		top = GST_OBJECT_PARENT(top);
	return top && GST_IS_ELEMENT(top) ? GST_ELEMENT(top) : nullptr;
}

std::string padName(GstPad *pad)
{
	GstObject *parent = GST_OBJECT_PARENT(pad);
	std::string element = parent ? GST_OBJECT_NAME(parent) : "(no element)";
	return element + ":" + GST_OBJECT_NAME(pad);
}

Kind kindOf(GstBuffer *buffer)
{
	Kind worst = Dmabuf;
	guint n = gst_buffer_n_memory(buffer);
	if (n == 0)
		return System;
	for (guint i = 0; i < n; i++) {
		GstMemory *memory = gst_buffer_peek_memory(buffer, i);
		Kind kind = gst_is_dmabuf_memory(memory) ? Dmabuf
			    : gst_is_fd_memory(memory)   ? Fd
							 : System;
		worst = kind > worst ? kind : worst;
	}
	return worst;
}

/* The run of @top, opened if needed. Under the mutex. */
Run *runOf(TracerState *state, GstElement *top)
{
	auto it = state->open.find(top);
	if (it != state->open.end())
		return it->second.get();
	auto run = std::make_unique<Run>();
	run->top = top;
	run->name = top ? GST_OBJECT_NAME(top) : "(no pipeline)";
	Run *raw = run.get();
	state->open[top] = std::move(run);
	return raw;
}

/* What a zcbuf producer decided to write into, "SPEC: REASON" cut to
 * SPEC (a spec never holds ": "). Read while the element pushes, so it
 * is alive; its first buffer comes after its allocation was decided. */
std::string chosenMemory(GstElement *element)
{
	if (!element || !g_object_class_find_property(G_OBJECT_GET_CLASS(element), "chosen-backend"))
		return "-";
	gchar *chosen = nullptr;
	g_object_get(element, "chosen-backend", &chosen, nullptr);
	std::string text = chosen ? chosen : "";
	g_free(chosen);
	std::size_t end = text.find(": ");
	text = text.substr(0, end);
	return text.empty() ? "-" : text;
}

LinkStats *linkOf(GstZerocopyTracer *self, GstPad *pad)
{
	GstPad *peer = GST_PAD_PEER(pad);
	auto *link = static_cast<PadLink *>(g_object_get_qdata(G_OBJECT(pad), linkQuark()));
	if (link && link->peer == peer && !link->stats->closed)
		return link->stats.get();

	TracerState *state = self->state;
	std::lock_guard<std::mutex> lock(state->mutex);
	GstObject *parent = GST_OBJECT_PARENT(pad);
	Run *run = runOf(state, topLevel(parent ? parent : GST_OBJECT(pad)));
	auto stats = std::make_shared<LinkStats>();
	/* The name is read once, with a reference on the peer. */
	GstPad *named = gst_pad_get_peer(pad);
	stats->name = padName(pad) + " -> " + (named ? padName(named) : std::string("(unlinked)"));
	if (named)
		gst_object_unref(named);
	stats->source = parent && GST_IS_ELEMENT(parent) ? GST_ELEMENT(parent) : nullptr;
	stats->memory = chosenMemory(stats->source);
	LinkStats *raw = stats.get();
	run->links.push_back(stats);
	/* Replacing the qdata frees the pad's previous (closed) link. */
	g_object_set_qdata_full(G_OBJECT(pad), linkQuark(), new PadLink{ std::move(stats), peer },
				[](gpointer data) { delete static_cast<PadLink *>(data); });
	return raw;
}

void count(GstZerocopyTracer *self, GstPad *pad, GstBuffer *buffer)
{
	LinkStats *stats = linkOf(self, pad);
	Kind kind = kindOf(buffer);
	stats->buffers[kind].fetch_add(1, std::memory_order_relaxed);
	stats->bytes[kind].fetch_add(gst_buffer_get_size(buffer), std::memory_order_relaxed);
}

void enter(GstPad *pad)
{
	GstPad *peer = GST_PAD_PEER(pad);
	GstObject *element = peer ? GST_OBJECT_PARENT(peer) : nullptr;
	running.push_back({ element && GST_IS_ELEMENT(element) ? GST_ELEMENT(element) : nullptr,
			    nullptr });
}

void leave()
{
	if (!running.empty())
		running.pop_back();
}

/* The hooks run inside GStreamer's pushes, pulls and state changes: an
 * exception (no memory for a link's record) must not unwind into them. What
 * it would have recorded is lost, with an error in the log. */
template <typename Body>
void hook(const char *where, Body &&body) noexcept
{
	try {
		body();
	} catch (...) {
		GST_ERROR("%s: out of memory, not recorded", where);
	}
}

void onPushPre(GObject *tracer, GstClockTime, GstPad *pad, GstBuffer *buffer)
{
	hook("pad-push-pre", [&] { count(GST_ZEROCOPY_TRACER(tracer), pad, buffer); });
	hook("pad-push-pre", [&] { enter(pad); });
}

void onPushListPre(GObject *tracer, GstClockTime, GstPad *pad, GstBufferList *list)
{
	hook("pad-push-list-pre", [&] {
		for (guint i = 0; i < gst_buffer_list_length(list); i++)
			count(GST_ZEROCOPY_TRACER(tracer), pad, gst_buffer_list_get(list, i));
	});
	hook("pad-push-list-pre", [&] { enter(pad); });
}

void onPushPost(GObject *, GstClockTime, GstPad *, GstFlowReturn)
{
	leave();
}

/* Events run the peer's code too (a decoder drains at EOS). */
void onEventPre(GObject *, GstClockTime, GstPad *pad, GstEvent *)
{
	hook("pad-push-event-pre", [&] {
		if (GST_PAD_IS_SRC(pad))
			enter(pad);
		else
			running.push_back({ nullptr, nullptr });
	});
}

void onEventPost(GObject *, GstClockTime, GstPad *, gboolean)
{
	leave();
}

/* gst_pad_query() on @pad: its element's query function runs (GStreamer
 * calls the hook on the pad that answers, not on the asking peer). */
void onQueryPre(GObject *, GstClockTime, GstPad *pad, GstQuery *query)
{
	hook("pad-query-pre", [&] {
		GstObject *element = GST_OBJECT_PARENT(pad);
		if (element && GST_IS_ELEMENT(element))
			running.push_back({ GST_ELEMENT(element), query });
		else if (!running.empty())
			/* A ghost pad's internal pad: the code running is still
			 * the outer frame's (a push-post or query-post pops it). */
			running.push_back(running.back());
		else
			running.push_back({ nullptr, query });
	});
}

void onQueryPost(GObject *, GstClockTime, GstPad *, GstQuery *, gboolean)
{
	leave();
}

/* @reason, and what the element was doing when it copied, if that was
 * answering a query. */
std::string reasonOf(const gchar *reason, const Running *frame)
{
	std::string text = reason ? reason : "copy";
	if (!frame || !frame->query)
		return text;
	GstQueryType type = GST_QUERY_TYPE(frame->query);
	if (type == GST_QUERY_ALLOCATION && frame->element && GST_IS_BASE_SINK(frame->element))
		return text + " by basesink on an ALLOCATION query (it copies the last sample it "
			      "keeps so that the old pool's buffers can go; enable-last-sample=false "
			      "avoids it)";
	return text + " while answering a " + gst_query_type_get_name(type) + " query";
}

void onPullRangePost(GObject *tracer, GstClockTime, GstPad *pad, GstBuffer *buffer,
		     GstFlowReturn result)
{
	/* @pad pulls from its peer: the link runs peer -> pad. */
	GstPad *peer = GST_PAD_PEER(pad);
	if (result == GST_FLOW_OK && buffer && peer)
		hook("pad-pull-range-post",
		     [&] { count(GST_ZEROCOPY_TRACER(tracer), peer, buffer); });
}

void recordCopy(GstObject *element, gsize bytes, const gchar *reason, gpointer user)
{
	GstZerocopyTracer *self = GST_ZEROCOPY_TRACER(user);
	GstElement *who = element && GST_IS_ELEMENT(element) ? GST_ELEMENT(element) : nullptr;
	const Running *frame = nullptr;
	if (!who && !running.empty()) {
		frame = &running.back();
		who = frame->element;
	}
	std::string why = reasonOf(reason, frame);
	TracerState *state = self->state;
	std::lock_guard<std::mutex> lock(state->mutex);
	Run *run = runOf(state, who ? topLevel(GST_OBJECT(who)) : nullptr);
	Copies &c = who ? run->copies[who] : run->unattributed;
	if (c.element.empty())
		c.element = who ? GST_OBJECT_NAME(who) : "(unknown)";
	c.copies++;
	c.bytes += bytes;
	c.reasons[why]++;
}

void onCopy(GstObject *element, gsize bytes, const gchar *reason, gpointer user)
{
	hook("copy", [&] { recordCopy(element, bytes, reason, user); });
}

std::string percent(guint64 part, guint64 whole)
{
	char text[16];
	g_snprintf(text, sizeof(text), "%.1f", whole ? 100.0 * part / whole : 0.0);
	return text;
}

void print(TracerState *state, const Run *run);

/* Prints @run, closes and frees it. Under the mutex. */
void report(TracerState *state, Run *run)
{
	for (const std::shared_ptr<LinkStats> &link : run->links)
		link->closed = true;
	if (!run->links.empty() || !run->copies.empty() || run->unattributed.copies)
		print(state, run);
	state->open.erase(run->top);
}

void print(TracerState *state, const Run *run)
{
	struct Row {
		std::string link;
		guint64 buffers, bytes, kindBuffers[Kinds], kindBytes[Kinds], copies, copyBytes;
		std::string memory;
	};
	std::vector<Row> rows;
	for (const std::shared_ptr<LinkStats> &l : run->links) {
		Row r{ l->name, 0, 0, {}, {}, 0, 0, l->memory };
		for (int k = 0; k < Kinds; k++) {
			r.kindBuffers[k] = l->buffers[k].load();
			r.kindBytes[k] = l->bytes[k].load();
			r.buffers += r.kindBuffers[k];
			r.bytes += r.kindBytes[k];
		}
		auto c = run->copies.find(l->source);
		if (c != run->copies.end()) {
			r.copies = c->second.copies;
			r.copyBytes = c->second.bytes;
		}
		rows.push_back(r);
	}
	guint64 copies = run->unattributed.copies, copyBytes = run->unattributed.bytes;
	for (const auto &[element, c] : run->copies) {
		copies += c.copies;
		copyBytes += c.bytes;
	}

	if (state->toStderr) {
		size_t width = 4;
		for (const Row &r : rows)
			width = std::max(width, r.link.size());
		std::string text = "zerocopy: pipeline " + run->name + "\n";
		char line[512];
		g_snprintf(line, sizeof(line), "%-*s | %8s | %12s | %8s | %6s | %8s | %6s | %s\n",
			   static_cast<int>(width), "link", "buffers", "bytes", "dmabuf %", "fd %",
			   "system %", "copies", "memory");
		text += line;
		for (const Row &r : rows) {
			g_snprintf(line, sizeof(line),
				   "%-*s | %8" G_GUINT64_FORMAT " | %12" G_GUINT64_FORMAT
				   " | %8s | %6s | %8s | %6" G_GUINT64_FORMAT " | %s\n",
				   static_cast<int>(width), r.link.c_str(), r.buffers, r.bytes,
				   percent(r.kindBuffers[Dmabuf], r.buffers).c_str(),
				   percent(r.kindBuffers[Fd], r.buffers).c_str(),
				   percent(r.kindBuffers[System], r.buffers).c_str(), r.copies,
				   r.memory.c_str());
			text += line;
		}
		text += "copies: " + std::to_string(copies) + " (" + std::to_string(copyBytes) +
			" bytes)";
		std::vector<const Copies *> all;
		for (const auto &[element, c] : run->copies)
			all.push_back(&c);
		if (run->unattributed.copies)
			all.push_back(&run->unattributed);
		for (const Copies *c : all)
			for (const auto &[reason, n] : c->reasons)
				text += "; " + c->element + ": " + std::to_string(n) + " x " + reason;
		text += "\n";
		fputs(text.c_str(), stderr);
		fflush(stderr);
	}
	if (!state->file.empty()) {
		FILE *file = fopen(state->file.c_str(), "a");
		if (!file) {
			GST_ERROR("cannot append to %s: %s", state->file.c_str(), g_strerror(errno));
			return;
		}
		for (const Row &r : rows)
			fprintf(file,
				"%s\t%s\t%" G_GUINT64_FORMAT "\t%" G_GUINT64_FORMAT "\t%" G_GUINT64_FORMAT
				"\t%" G_GUINT64_FORMAT "\t%" G_GUINT64_FORMAT "\t%" G_GUINT64_FORMAT
				"\t%" G_GUINT64_FORMAT "\t%" G_GUINT64_FORMAT "\t%" G_GUINT64_FORMAT
				"\t%" G_GUINT64_FORMAT "\t%s\n",
				run->name.c_str(), r.link.c_str(), r.buffers, r.bytes,
				r.kindBuffers[Dmabuf], r.kindBuffers[Fd], r.kindBuffers[System],
				r.kindBytes[Dmabuf], r.kindBytes[Fd], r.kindBytes[System], r.copies,
				r.copyBytes, r.memory.c_str());
		fprintf(file,
			"%s\t(total)\t\t\t\t\t\t\t\t\t%" G_GUINT64_FORMAT "\t%" G_GUINT64_FORMAT
			"\t-\n",
			run->name.c_str(), copies, copyBytes);
		fclose(file);
	}
}

void reportOpen(GstZerocopyTracer *self)
{
	TracerState *state = self->state;
	std::lock_guard<std::mutex> lock(state->mutex);
	std::vector<Run *> open;
	for (const auto &[top, run] : state->open)
		open.push_back(run.get());
	for (Run *run : open)
		report(state, run);
}

void onStateChangePost(GObject *tracer, GstClockTime, GstElement *element,
		       GstStateChange transition, GstStateChangeReturn)
{
	if (transition != GST_STATE_CHANGE_READY_TO_NULL || GST_OBJECT_PARENT(element))
		return;
	TracerState *state = GST_ZEROCOPY_TRACER(tracer)->state;
	hook("element-change-state-post", [&] {
		std::lock_guard<std::mutex> lock(state->mutex);
		auto it = state->open.find(element);
		if (it != state->open.end())
			report(state, it->second.get());
	});
}

void reportAtExit()
{
	/* Applications that never call gst_deinit(): the tracer is never
	 * finalized, so the open runs are printed here. */
	if (GstZerocopyTracer *self = liveTracer.load())
		reportOpen(self);
}

void parseParams(GstZerocopyTracer *self)
{
	gchar *params = nullptr;
	g_object_get(self, "params", &params, nullptr);
	if (!params)
		return;
	gchar *text = g_strdup_printf("zerocopy,%s", params);
	GstStructure *s = gst_structure_new_from_string(text);
	if (!s) {
		g_printerr("zerocopy tracer: cannot parse parameters \"%s\" (expected "
			   "file=PATH,stderr=BOOL)\n",
			   params);
	} else {
		if (const gchar *file = gst_structure_get_string(s, "file"))
			self->state->file = file;
		gboolean toStderr = TRUE;
		if (gst_structure_get_boolean(s, "stderr", &toStderr))
			self->state->toStderr = toStderr;
		gst_structure_free(s);
	}
	g_free(text);
	g_free(params);

	if (!self->state->file.empty()) {
		/* A fresh file with its header; reports append. */
		FILE *file = fopen(self->state->file.c_str(), "w");
		if (!file) {
			g_printerr("zerocopy tracer: cannot write %s: %s\n", self->state->file.c_str(),
				   g_strerror(errno));
			self->state->file.clear();
			return;
		}
		fputs("pipeline\tlink\tbuffers\tbytes\tdmabuf_buffers\tfd_buffers\tsystem_buffers\t"
		      "dmabuf_bytes\tfd_bytes\tsystem_bytes\tcopies\tcopy_bytes\tmemory\n",
		      file);
		fclose(file);
	}
}

} /* namespace */

static void gst_zerocopy_tracer_constructed(GObject *object)
{
	GstZerocopyTracer *self = GST_ZEROCOPY_TRACER(object);
	G_OBJECT_CLASS(gst_zerocopy_tracer_parent_class)->constructed(object);
	parseParams(self);

	GstTracer *tracer = GST_TRACER(self);
	gst_tracing_register_hook(tracer, "pad-push-pre", G_CALLBACK(onPushPre));
	gst_tracing_register_hook(tracer, "pad-push-post", G_CALLBACK(onPushPost));
	gst_tracing_register_hook(tracer, "pad-push-list-pre", G_CALLBACK(onPushListPre));
	gst_tracing_register_hook(tracer, "pad-push-list-post", G_CALLBACK(onPushPost));
	gst_tracing_register_hook(tracer, "pad-pull-range-post", G_CALLBACK(onPullRangePost));
	gst_tracing_register_hook(tracer, "pad-push-event-pre", G_CALLBACK(onEventPre));
	gst_tracing_register_hook(tracer, "pad-push-event-post", G_CALLBACK(onEventPost));
	gst_tracing_register_hook(tracer, "pad-query-pre", G_CALLBACK(onQueryPre));
	gst_tracing_register_hook(tracer, "pad-query-post", G_CALLBACK(onQueryPost));
	gst_tracing_register_hook(tracer, "element-change-state-post",
				  G_CALLBACK(onStateChangePost));
	self->state->listener = gst_zcbuf_copy_listener_add(onCopy, self);

	liveTracer.store(self);
	static std::once_flag atexitOnce;
	std::call_once(atexitOnce, [] { atexit(reportAtExit); });
}

static void gst_zerocopy_tracer_finalize(GObject *object)
{
	GstZerocopyTracer *self = GST_ZEROCOPY_TRACER(object);
	GstZerocopyTracer *expected = self;
	liveTracer.compare_exchange_strong(expected, nullptr);
	gst_zcbuf_copy_listener_remove(self->state->listener);
	reportOpen(self);
	delete std::exchange(self->state, nullptr);
	G_OBJECT_CLASS(gst_zerocopy_tracer_parent_class)->finalize(object);
}

static void gst_zerocopy_tracer_init(GstZerocopyTracer *self)
{
	self->state = new TracerState();
}

static void gst_zerocopy_tracer_class_init(GstZerocopyTracerClass *klass)
{
	GObjectClass *objectClass = G_OBJECT_CLASS(klass);
	objectClass->constructed = gst_zerocopy_tracer_constructed;
	objectClass->finalize = gst_zerocopy_tracer_finalize;
	GST_DEBUG_CATEGORY_INIT(gst_zerocopy_tracer_debug, "zerocopytracer", 0,
				"zerocopy tracer: memory kinds and copies per link");
}
