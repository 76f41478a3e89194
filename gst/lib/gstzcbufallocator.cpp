/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Two allocator types, one implementation: GstZcbufDmabufAllocator derives
 * from GstDmaBufAllocator and GstZcbufFdAllocator from GstFdAllocator, and
 * both keep their C++ state behind one pointer created in _init and deleted
 * in _finalize (GObject zero-fills instances and runs no C++ constructors).
 */
#include <gst/zcbuf/gstzcbufallocator.h>
#include <gst/zcbuf/gstzcbufmemory.hpp>

#include <atomic>
#include <mutex>
#include <string>

#include <zcbuf/backend.h>
#include <zcbuf/buffer.h>

#include "gstzcbufguard-private.h"
#include "gstzcbufmemory-private.h"

GST_DEBUG_CATEGORY_STATIC(gst_zcbuf_allocator_debug);
#define GST_CAT_DEFAULT gst_zcbuf_allocator_debug

namespace {

/* "none": an allocator that only wraps existing buffers. */
constexpr const char *kWrapOnly = "none";

struct AllocatorState {
	std::string spec;
	std::shared_ptr<zcbuf::Backend> backend;
	std::string openError;
	std::atomic<unsigned> allocations{ 0 };
};

enum {
	PROP_0,
	PROP_BACKEND,
	PROP_BACKEND_DESCRIPTION,
	PROP_DMABUF,
};

} /* namespace */

struct _GstZcbufDmabufAllocator {
	GstDmaBufAllocator parent;
	AllocatorState *state;
};

struct _GstZcbufFdAllocator {
	GstFdAllocator parent;
	AllocatorState *state;
};

G_DEFINE_TYPE(GstZcbufDmabufAllocator, gst_zcbuf_dmabuf_allocator,
	      GST_TYPE_DMABUF_ALLOCATOR)
G_DEFINE_TYPE(GstZcbufFdAllocator, gst_zcbuf_fd_allocator, GST_TYPE_FD_ALLOCATOR)

namespace {

AllocatorState *stateOf(gpointer allocator)
{
	if (GST_IS_ZCBUF_DMABUF_ALLOCATOR(allocator))
		return GST_ZCBUF_DMABUF_ALLOCATOR(allocator)->state;
	if (GST_IS_ZCBUF_FD_ALLOCATOR(allocator))
		return GST_ZCBUF_FD_ALLOCATOR(allocator)->state;
	return nullptr;
}

void initInstance(GstAllocator *allocator, AllocatorState **state)
{
	*state = new AllocatorState();
	allocator->mem_type = GST_IS_ZCBUF_DMABUF_ALLOCATOR(allocator) ? GST_ALLOCATOR_DMABUF
								       : GST_ALLOCATOR_FD;
	gst_zcbuf_memory_install_functions(allocator);
	/* Unlike its parents, this allocator can allocate by itself. */
	GST_OBJECT_FLAG_UNSET(allocator, GST_ALLOCATOR_FLAG_CUSTOM_ALLOC);
}

/* The backend gst_zcbuf_allocator_new() already opened, handed to
 * constructed() so that the default is probed once, not twice. */
thread_local std::shared_ptr<zcbuf::Backend> openedForConstruction;

void constructed(GObject *object, bool wantDmabuf)
{
	AllocatorState *state = stateOf(object);
	if (state->spec == kWrapOnly) {
		/* It cannot allocate: copies of its memory go to system memory. */
		GST_OBJECT_FLAG_SET(object, GST_ALLOCATOR_FLAG_CUSTOM_ALLOC);
		return;
	}

	std::shared_ptr<zcbuf::Backend> handed = std::exchange(openedForConstruction, nullptr);
	zcbuf::Result<std::shared_ptr<zcbuf::Backend>> backend =
		handed ? zcbuf::Result<std::shared_ptr<zcbuf::Backend>>(handed)
		: state->spec.empty() ? zcbuf::defaultBackend()
				      : zcbuf::openBackend(state->spec);
	if (!backend) {
		state->openError = backend.error().message();
		GST_ERROR_OBJECT(object, "backend unavailable: %s", state->openError.c_str());
		return;
	}
	if (backend.value()->capabilities().dmabuf != wantDmabuf) {
		state->openError = "backend " + backend.value()->description() +
				   (wantDmabuf ? " does not give dma-bufs"
					       : " gives dma-bufs: use the dmabuf allocator");
		GST_ERROR_OBJECT(object, "%s", state->openError.c_str());
		return;
	}
	state->backend = backend.value();
	GST_INFO_OBJECT(object, "backend %s", state->backend->description().c_str());
}

void setProperty(GObject *object, guint id, const GValue *value, GParamSpec *pspec)
{
	AllocatorState *state = stateOf(object);
	switch (id) {
	case PROP_BACKEND: {
		const gchar *spec = g_value_get_string(value);
		state->spec = spec ? spec : "";
		break;
	}
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
	}
}

void getProperty(GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
	AllocatorState *state = stateOf(object);
	switch (id) {
	case PROP_BACKEND:
		g_value_set_string(value, state->spec.c_str());
		break;
	case PROP_BACKEND_DESCRIPTION:
		g_value_set_string(value, state->backend ? state->backend->description().c_str()
							 : nullptr);
		break;
	case PROP_DMABUF:
		g_value_set_boolean(value, GST_IS_ZCBUF_DMABUF_ALLOCATOR(object));
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
	}
}

GstMemory *allocMemory(GstAllocator *allocator, gsize size, GstAllocationParams *params)
{
	AllocatorState *state = stateOf(allocator);
	if (!state->backend) {
		GST_ERROR_OBJECT(allocator, "cannot allocate: %s",
				 state->openError.empty() ? "this allocator only wraps buffers"
							  : state->openError.c_str());
		return nullptr;
	}

	gsize prefix = params ? params->prefix : 0;
	gsize padding = params ? params->padding : 0;
	std::string name = "zcbuf-" + std::to_string(state->allocations++);
	std::shared_ptr<zcbuf::Buffer> buffer =
		zcbuf::Buffer::create(state->backend, prefix + size + padding, name);

	if (params && params->align) {
		zcbuf::Constraints constraints;
		constraints.consumer = "GstAllocationParams";
		constraints.alignment = params->align + 1;
		zcbuf::Result<void> attached = buffer->attach(constraints);
		if (!attached) {
			GST_ERROR_OBJECT(allocator, "%s", attached.error().message().c_str());
			return nullptr;
		}
	}
	zcbuf::Result<void> allocated = buffer->allocate();
	if (!allocated) {
		GST_ERROR_OBJECT(allocator, "allocating %" G_GSIZE_FORMAT " bytes: %s", size,
				 allocated.error().message().c_str());
		return nullptr;
	}

	GstMemory *memory = gst_zcbuf_memory_wrap(allocator, std::move(buffer));
	if (!memory)
		return nullptr;
	gst_memory_resize(memory, static_cast<gssize>(prefix), size);
	if (params)
		GST_MINI_OBJECT_FLAGS(memory) |= params->flags;
	return memory;
}

void classInit(GObjectClass *objectClass, GstAllocatorClass *allocatorClass)
{
	using zcbuf::gstlib::guardedVfunc;
	objectClass->set_property = guardedVfunc<setProperty, &gst_zcbuf_allocator_debug>;
	objectClass->get_property = guardedVfunc<getProperty, &gst_zcbuf_allocator_debug>;
	allocatorClass->alloc = guardedVfunc<allocMemory, &gst_zcbuf_allocator_debug>;
	/* free stays GstFdAllocator's: the memory's fd is DONT_CLOSE, and the
	 * libzcbuf buffer goes with the memory's qdata. */

	g_object_class_install_property(
		objectClass, PROP_BACKEND,
		g_param_spec_string("backend", "Backend",
				    "Allocation backend: module, dma-heap[:HEAP], udmabuf, "
				    "drm[:/dev/dri/cardN], memfd; empty for ZCBUF_BACKEND or "
				    "the best available",
				    nullptr,
				    static_cast<GParamFlags>(G_PARAM_READWRITE |
							     G_PARAM_CONSTRUCT_ONLY |
							     G_PARAM_STATIC_STRINGS)));
	g_object_class_install_property(
		objectClass, PROP_BACKEND_DESCRIPTION,
		g_param_spec_string("backend-description", "Backend description",
				    "The backend in use and its device", nullptr,
				    static_cast<GParamFlags>(G_PARAM_READABLE |
							     G_PARAM_STATIC_STRINGS)));
	g_object_class_install_property(
		objectClass, PROP_DMABUF,
		g_param_spec_boolean("dmabuf", "dma-buf", "Whether the memory is dma-buf memory",
				     FALSE,
				     static_cast<GParamFlags>(G_PARAM_READABLE |
							      G_PARAM_STATIC_STRINGS)));
}

} /* namespace */

/* GstZcbufDmabufAllocator */

static void gst_zcbuf_dmabuf_allocator_init(GstZcbufDmabufAllocator *self)
{
	initInstance(GST_ALLOCATOR(self), &self->state);
}

static void gst_zcbuf_dmabuf_allocator_constructed(GObject *object)
{
	constructed(object, true);
	G_OBJECT_CLASS(gst_zcbuf_dmabuf_allocator_parent_class)->constructed(object);
}

static void gst_zcbuf_dmabuf_allocator_finalize(GObject *object)
{
	delete std::exchange(GST_ZCBUF_DMABUF_ALLOCATOR(object)->state, nullptr);
	G_OBJECT_CLASS(gst_zcbuf_dmabuf_allocator_parent_class)->finalize(object);
}

static void gst_zcbuf_dmabuf_allocator_class_init(GstZcbufDmabufAllocatorClass *klass)
{
	GObjectClass *objectClass = G_OBJECT_CLASS(klass);
	objectClass->constructed = gst_zcbuf_dmabuf_allocator_constructed;
	objectClass->finalize = gst_zcbuf_dmabuf_allocator_finalize;
	classInit(objectClass, GST_ALLOCATOR_CLASS(klass));
	GST_DEBUG_CATEGORY_INIT(gst_zcbuf_allocator_debug, "zcbufallocator", 0,
				"zcbuf allocator");
	gst_zcbuf_memory_init_debug();
}

/* GstZcbufFdAllocator */

static void gst_zcbuf_fd_allocator_init(GstZcbufFdAllocator *self)
{
	initInstance(GST_ALLOCATOR(self), &self->state);
}

static void gst_zcbuf_fd_allocator_constructed(GObject *object)
{
	constructed(object, false);
	G_OBJECT_CLASS(gst_zcbuf_fd_allocator_parent_class)->constructed(object);
}

static void gst_zcbuf_fd_allocator_finalize(GObject *object)
{
	delete std::exchange(GST_ZCBUF_FD_ALLOCATOR(object)->state, nullptr);
	G_OBJECT_CLASS(gst_zcbuf_fd_allocator_parent_class)->finalize(object);
}

static void gst_zcbuf_fd_allocator_class_init(GstZcbufFdAllocatorClass *klass)
{
	GObjectClass *objectClass = G_OBJECT_CLASS(klass);
	objectClass->constructed = gst_zcbuf_fd_allocator_constructed;
	objectClass->finalize = gst_zcbuf_fd_allocator_finalize;
	classInit(objectClass, GST_ALLOCATOR_CLASS(klass));
	GST_DEBUG_CATEGORY_INIT(gst_zcbuf_allocator_debug, "zcbufallocator", 0,
				"zcbuf allocator");
	gst_zcbuf_memory_init_debug();
}

/* Public API */

G_DEFINE_QUARK(gst-zcbuf-error-quark, gst_zcbuf_error)

GstAllocator *gst_zcbuf_allocator_new(const gchar *backend, GError **error)
{
	zcbuf::Result<std::shared_ptr<zcbuf::Backend>> opened =
		backend && *backend ? zcbuf::openBackend(backend) : zcbuf::defaultBackend();
	if (!opened) {
		g_set_error(error, GST_ZCBUF_ERROR, GST_ZCBUF_ERROR_BACKEND, "%s",
			    opened.error().message().c_str());
		return nullptr;
	}
	/* openBackend() shares instances per spec, so constructed() finds the
	 * same backend again. */
	GType type = opened.value()->capabilities().dmabuf ? GST_TYPE_ZCBUF_DMABUF_ALLOCATOR
							   : GST_TYPE_ZCBUF_FD_ALLOCATOR;
	openedForConstruction = opened.value();
	GstAllocator *allocator =
		GST_ALLOCATOR(g_object_new(type, "backend", backend, nullptr));
	openedForConstruction = nullptr;
	gst_object_ref_sink(allocator);
	AllocatorState *state = stateOf(allocator);
	if (!state->backend) {
		g_set_error(error, GST_ZCBUF_ERROR, GST_ZCBUF_ERROR_BACKEND, "%s",
			    state->openError.c_str());
		gst_object_unref(allocator);
		return nullptr;
	}
	return allocator;
}

gboolean gst_is_zcbuf_allocator(GstAllocator *allocator)
{
	return GST_IS_ZCBUF_DMABUF_ALLOCATOR(allocator) || GST_IS_ZCBUF_FD_ALLOCATOR(allocator);
}

gboolean gst_zcbuf_allocator_is_dmabuf(GstAllocator *allocator)
{
	return GST_IS_ZCBUF_DMABUF_ALLOCATOR(allocator);
}

gchar *gst_zcbuf_allocator_get_backend(GstAllocator *allocator)
{
	g_return_val_if_fail(gst_is_zcbuf_allocator(allocator), nullptr);
	AllocatorState *state = stateOf(allocator);
	return g_strdup(state->backend ? state->backend->spec().c_str() : kWrapOnly);
}

gchar *gst_zcbuf_allocator_get_backend_description(GstAllocator *allocator)
{
	g_return_val_if_fail(gst_is_zcbuf_allocator(allocator), nullptr);
	AllocatorState *state = stateOf(allocator);
	return g_strdup(state->backend ? state->backend->description().c_str() : kWrapOnly);
}

std::shared_ptr<zcbuf::Backend> gst_zcbuf_allocator_get_backend_object(GstAllocator *allocator)
{
	AllocatorState *state = allocator ? stateOf(allocator) : nullptr;
	return state ? state->backend : nullptr;
}

GstMemory *gst_zcbuf_allocator_import_fd(gint fd, gsize size, GError **error)
{
	zcbuf::Result<std::shared_ptr<zcbuf::Buffer>> buffer = zcbuf::Buffer::import(fd, size);
	if (!buffer) {
		g_set_error(error, GST_ZCBUF_ERROR, GST_ZCBUF_ERROR_FD, "%s",
			    buffer.error().message().c_str());
		return nullptr;
	}
	GstMemory *memory = gst_zcbuf_memory_wrap(nullptr, buffer.value());
	if (memory)
		gst_memory_resize(memory, 0, size);
	return memory;
}

namespace {

/* The registered "zcbuf" allocator: it opens the default backend at its
 * first allocation, not when it is registered (plugin load), and hands out
 * the memory of that backend's dmabuf or fd allocator, so the memory's
 * allocator is what importers test. */
struct LazyState {
	std::mutex lock;
	GstAllocator *opened = nullptr;
	bool tried = false;
	std::string error;
};

struct LazyAllocator {
	GstAllocator parent;
	LazyState *state;
};

struct LazyAllocatorClass {
	GstAllocatorClass parent_class;
};

GstAllocator *lazyOpen(LazyAllocator *self)
{
	std::lock_guard guard(self->state->lock);
	if (!self->state->tried) {
		self->state->tried = true;
		GError *error = nullptr;
		self->state->opened = gst_zcbuf_allocator_new(nullptr, &error);
		if (!self->state->opened) {
			self->state->error = error->message;
			g_clear_error(&error);
		}
	}
	return self->state->opened;
}

GType lazyAllocatorType()
{
	static gsize type = 0;
	if (g_once_init_enter(&type)) {
		GType registered = g_type_register_static_simple(
			GST_TYPE_ALLOCATOR, "GstZcbufLazyAllocator", sizeof(LazyAllocatorClass),
			[](gpointer klass, gpointer) {
				G_OBJECT_CLASS(klass)->finalize = [](GObject *object) {
					auto *self = reinterpret_cast<LazyAllocator *>(object);
					if (self->state->opened)
						gst_object_unref(self->state->opened);
					delete std::exchange(self->state, nullptr);
					G_OBJECT_CLASS(g_type_class_peek(GST_TYPE_ALLOCATOR))->finalize(object);
				};
				GST_ALLOCATOR_CLASS(klass)->alloc = [](GstAllocator *allocator, gsize size,
								       GstAllocationParams *params) -> GstMemory * {
					auto *self = reinterpret_cast<LazyAllocator *>(allocator);
					GstAllocator *opened = lazyOpen(self);
					if (!opened) {
						GST_ERROR_OBJECT(allocator, "no default zcbuf backend: %s",
								 self->state->error.c_str());
						return nullptr;
					}
					return gst_allocator_alloc(opened, size, params);
				};
			},
			sizeof(LazyAllocator),
			[](GTypeInstance *instance, gpointer) {
				auto *self = reinterpret_cast<LazyAllocator *>(instance);
				self->state = new LazyState();
				GST_ALLOCATOR(instance)->mem_type = "zcbuf-default";
			},
			GTypeFlags(0));
		g_once_init_leave(&type, registered);
	}
	return type;
}

} /* namespace */

gboolean gst_zcbuf_allocator_is_lazy_default(GstAllocator *allocator)
{
	return G_TYPE_CHECK_INSTANCE_TYPE(allocator, lazyAllocatorType());
}

void gst_zcbuf_allocator_register(void)
{
	static gsize once = 0;
	if (!g_once_init_enter(&once))
		return;
	/* Errors of the first allocation may come before any allocator class
	 * exists, and logging in a category not yet made is a
	 * GStreamer-CRITICAL. */
	GST_DEBUG_CATEGORY_INIT(gst_zcbuf_allocator_debug, "zcbufallocator", 0, "zcbuf allocator");
	auto *allocator = GST_ALLOCATOR(g_object_new(lazyAllocatorType(), nullptr));
	gst_object_ref_sink(allocator);
	/* gst_allocator_register() takes the reference. */
	GST_OBJECT_FLAG_SET(allocator, GST_OBJECT_FLAG_MAY_BE_LEAKED);
	gst_allocator_register(GST_ALLOCATOR_ZCBUF, allocator);
	g_once_init_leave(&once, 1);
}
