// shield.cpp — the two done callbacks of asyncio.shield (Lib/asyncio/tasks.py,
// 3.13: _inner_done_callback and _outer_done_callback).
//
// Ownership: the inner watch holds a reference to the outer (the outer must
// exist to be completed); the outer watch points to the inner watch without
// owning anything. Each one's destructor unhooks it from the other, so either
// future may go first (an inner destroyed while pending frees the outer's
// claim on it) and no reference cycle keeps both alive.
#include "asyncio/shield.hpp"

#include <string>

namespace asyncio::detail {

// Apart from the 80-byte class of small coroutine frames.
static_assert(sizeof(ShieldInnerWatch) <= 64);

namespace {

std::optional<std::string> cancel_message(FutureBase* f) {
    try {
        std::rethrow_exception(f->exc_slot());
    } catch (const CancelledError& e) {
        return std::string(e.what());
    } catch (...) {
        return std::nullopt;
    }
}

}  // namespace

void shield_link(FutureBase* inner, FutureStateBase* outer, ShieldTransfer transfer) {
    auto* in = new ShieldInnerWatch;
    ShieldOuterWatch* out = nullptr;
    try {
        out = new ShieldOuterWatch;
    } catch (...) {
        delete in;  // holds nothing yet
        throw;
    }
    in->fut = inner;
    in->outer = outer;
    in->transfer = transfer;
    outer->add_ref();
    in->partner = out;
    out->partner = in;
    // Both pending: these only link (CPython registers them in this order).
    inner->add_done_callback_node(in);
    outer->add_done_callback_node(out);
}

void shield_copy_done(FutureBase* inner, FutureStateBase* outer, ShieldTransfer transfer) {
    if (inner->cancelled()) {
        outer->cancel(cancel_message(inner));
        return;
    }
    if (std::exception_ptr e = inner->exception())
        outer->set_exception(std::move(e));
    else
        transfer(inner, outer);
}

void ShieldInnerWatch::invoke(FutureBase*) {
    if (outer->cancelled()) {
        if (!inner()->cancelled()) (void)inner()->exception();  // mark it retrieved
        return;
    }
    if (inner()->cancelled()) {
        outer->cancel(std::nullopt);
        return;
    }
    if (std::exception_ptr e = inner()->exception())
        outer->set_exception(std::move(e));
    else
        transfer(inner(), outer);
}

ShieldInnerWatch::~ShieldInnerWatch() {
    if (partner) partner->partner = nullptr;
    outer->release();  // may destroy the outer (and its watch, unhooked above)
}

void ShieldOuterWatch::invoke(FutureBase*) {
    // The outer finished first (it was cancelled): stop following the inner.
    if (ShieldInnerWatch* in = partner; in && !in->inner()->done()) {
        in->inner()->remove_callback(in);
        delete in;
    }
}

ShieldOuterWatch::~ShieldOuterWatch() {
    if (partner) partner->partner = nullptr;
}

}  // namespace asyncio::detail
