// gather.cpp — GatherCore: gather()'s children, cancellation and completion.
// Mirrors _GatheringFuture and gather()'s _done_callback in Lib/asyncio/tasks.py.
//
// References: the state holds one on each slot's child (cell.owned), so the
// result can be built from them. Once no handle is left but children are
// still pending, it goes on watching them "detached", holding a reference on
// itself, as CPython's callbacks keep the outer future alive: later errors are
// still marked retrieved, and an error of the gather itself is reported as
// "_GatheringFuture exception was never retrieved" when it finally goes. While
// detached it holds no reference on pending children (the loop keeps a
// pending task alive; a future nobody can complete any more may go), so that
// a closing loop can drop them: a child destroyed while watched destroys its
// node, and the last node gone releases the state.
#include "asyncio/detail/gather_impl.hpp"

namespace asyncio::detail {

GatherCore::GatherCore(FutureStateBase* outer, std::size_t n, bool return_exceptions,
                       void (*complete)(GatherCore*),
                       void (*take)(GatherCore*, std::size_t, FutureBase*))
    : outer_(outer),
      block_(WatchBlock::create(n, this, &GatherCore::on_fire)),
      complete_(complete),
      take_(take),
      return_exceptions_(return_exceptions) {}

GatherCore::~GatherCore() {
    block_->unlink_all();
    // Only now: dropping a child may destroy a future we had to unlink from.
    for (WatchCell* c = block_->begin(); owned_ > 0 && c != block_->end(); ++c) {
        if (c->owned) {
            c->owned = false;
            --owned_;
            c->fut->release();
        }
    }
    block_->release();
}

void GatherCore::add_child(std::size_t i, FutureBase* child) noexcept {
    if (child->done()) {
        block_->set(i, child);
        ++done_at_call_;
        ++pending_;
    } else if (block_->arm(i, child)) {
        ++pending_;
    }
    // else: a duplicate of a pending child; the slot reads the same child.
    (*block_)[i].owned = true;
    ++owned_;
}

void GatherCore::finish_setup() {
    set_up_ = true;
    // CPython runs _done_callback for the children done at the call after
    // the outer future exists, in order: if they all were, the gather is done
    // before gather() returns. A child passed twice is processed twice, which
    // changes nothing (the second time the outer is done, or the count of
    // slots to process includes it).
    for (WatchCell& c : *block_) {
        if (done_at_call_ == 0) break;
        if (!c.live && c.fut->done()) {
            --done_at_call_;
            child_done(c.fut, nullptr);
        }
    }
}

void GatherCore::on_fire(void* self, WatchCell& cell, FutureBase* child) {
    auto* g = static_cast<GatherCore*>(self);
    if (!cell.owned) {  // detached: hold the child again, for the result
        child->add_ref();
        cell.owned = true;
        ++g->owned_;
    }
    g->child_done(child, &cell);
}

void GatherCore::on_gone(void* self) {
    auto* g = static_cast<GatherCore*>(self);          // (set only once detached)
    if (g->block_->live() == 0) g->outer_->release();  // may delete g
}

bool GatherCore::on_last_ref() noexcept {
    EventLoop* l = outer_->loop();
    if (block_->live() == 0 || !l || l->is_closed()) return true;
    block_->set_gone(&GatherCore::on_gone);
    outer_->add_ref();  // the nodes' reference: on_gone drops it with the last node
    outer_->add_ref();  // held across the loop below, whose releases may end in on_gone
    for (WatchCell& c : *block_) {
        if (c.owned && !c.fut->done()) {
            c.owned = false;
            --owned_;
            c.fut->release();
        }
    }
    outer_->release();  // may delete this: nothing may follow
    return false;
}

void GatherCore::child_done(FutureBase* child, WatchCell* cell) {
    --pending_;
    // bpo-46672: gather() failed half-way (a future of another loop), or the
    // outer is done: only mark the child's exception retrieved.
    if (!set_up_ || outer_->done()) {
        if (!child->cancelled()) (void)child->exception();  // mark it retrieved
        return;
    }
    if (!return_exceptions_) {
        if (child->cancelled()) {
            // A cancelled child fails the gather with its CancelledError; the
            // gather itself is not cancelled.
            outer_->set_exception(child->exc_slot());
            return;
        }
        if (std::exception_ptr e = child->exception()) {
            outer_->set_exception(std::move(e));
            return;
        }
    }
    // Take the value now and let the child go, except the last slot's:
    // all_done() may need to look at it.
    if (take_ && cell && cell->owned) {
        const std::size_t i = block_->index_of(*cell);
        if (i + 1 < block_->size()) {
            take_(this, i, child);
            cell->owned = false;
            --owned_;
            cell->fut = nullptr;
            child->release();  // the node's own reference keeps it until the node is gone
        }
    }
    if (pending_ == 0) all_done();
}

void GatherCore::all_done() {
    if (cancel_requested_) {
        // Issue 32684: a cancelled gather ends in CancelledError whatever
        // return_exceptions says. CPython takes it from the last child.
        if (return_exceptions_) {
            for (WatchCell& c : *block_)  // (a slot taken early is marked already)
                if (c.fut && !c.fut->cancelled()) (void)c.fut->exception();
        }
        FutureBase* last = (*block_)[block_->size() - 1].fut;
        outer_->set_exception(last->cancelled() ? last->exc_slot()
                                                : make_cancelled_error(std::nullopt));
        return;
    }
    try {
        complete_(this);
    } catch (...) {
        // Building the result threw (a copy ran out of memory...): fail the
        // gather with it rather than the loop.
        if (!outer_->done()) outer_->set_exception(std::current_exception());
    }
}

bool GatherCore::cancel_children(const std::optional<std::string>& msg) {
    if (outer_->done()) return false;
    bool ret = false;
    // Every slot, as CPython's children list: a child passed twice is asked twice.
    for (WatchCell& c : *block_)
        if (c.fut && c.fut->cancel(msg)) ret = true;
    if (ret) cancel_requested_ = true;
    return ret;
}

}  // namespace asyncio::detail
