// kerascpp/weights.hpp — weight tensors and the parameter store. A layer's weight is a `Param`: a
// fixed-shape view that owns its memory until a `ParameterStore` adopts it, and from then on views
// one slice of the store's flat buffers. All trainable weights of a model sit in one contiguous
// buffer, their gradients in a second of the same layout, the non-trainable weights in a third, so
// that optimizers and gradient reductions run one loop over each.
#pragma once

#include <kerascpp/core.hpp>

#include <limits>
#include <new>
#include <string>
#include <vector>

namespace kerascpp {

/// One weight tensor (rows × cols, row-major, 16-byte aligned). It reads and writes like an Eigen
/// matrix of fixed shape: assigning a matrix of another shape throws instead of resizing.
template <typename Scalar>
class Param : public MatrixView<Scalar> {
  using Base = MatrixView<Scalar>;

 public:
  Param() : Base(nullptr, 0, 0) {}
  /// A copy owns its values: copying a layer never shares weights with the original.
  Param(const Param& other) : Base(nullptr, 0, 0), own_(other) { rebind(own_.data(), own_.rows(), own_.cols()); }
  Param(Param&& other) noexcept : Base(nullptr, 0, 0) {
    const bool owned = other.data() == other.own_.data();
    own_ = std::move(other.own_);
    rebind(owned ? own_.data() : other.data(), other.rows(), other.cols());
    other.rebind(nullptr, 0, 0);
  }
  Param& operator=(const Param& other) {
    if (this != &other) assign(other);
    return *this;
  }
  Param& operator=(Param&& other) noexcept {
    if (this != &other) {
      const bool owned = other.data() == other.own_.data();
      own_ = std::move(other.own_);
      rebind(owned ? own_.data() : other.data(), other.rows(), other.cols());
      other.rebind(nullptr, 0, 0);
    }
    return *this;
  }
  template <typename D>
  Param& operator=(const Eigen::MatrixBase<D>& m) {
    assign(m);
    return *this;
  }

  /// Own zeroed memory of the given shape (the layer's build); the store adopts it later.
  void resize(Index rows, Index cols) {
    constexpr Index limit = std::numeric_limits<Index>::max() / static_cast<Index>(sizeof(Scalar));
    if (rows < 0 || cols < 0)
      detail::fail("weight shape must be non-negative, received shape ", detail::shape_string(rows, cols));
    if (rows > 0 && cols > limit / rows)
      detail::fail("weight of shape ", detail::shape_string(rows, cols), " has more elements than memory can address (at most ",
                   limit, ")");
    try {
      own_.setZero(rows, cols);
    } catch (const std::bad_alloc&) {
      detail::fail("could not allocate a weight of shape ", detail::shape_string(rows, cols), " (",
                   static_cast<double>(rows) * static_cast<double>(cols) * sizeof(Scalar), " bytes)");
    }
    rebind(own_.data(), rows, cols);
  }
  void setZero(Index rows, Index cols) { resize(rows, cols); }
  void setOnes(Index rows, Index cols) {
    resize(rows, cols);
    Base::setOnes();
  }
  using Base::setOnes;
  using Base::setZero;

  /// The plain Eigen view, for templates that need an Eigen type.
  Base& view() { return *this; }
  const Base& view() const { return *this; }

  /// Moves the values to `place` (rows·cols elements, 16-byte aligned) and views them there.
  void bind(Scalar* place) {
    if (place != this->data()) std::copy_n(this->data(), this->size(), place);
    share(place);
  }

  /// Views `place` without copying (its values are someone else's: a worker's view of the model's).
  void share(Scalar* place) {
    const Index rows = this->rows(), cols = this->cols();
    rebind(place, rows, cols);
    own_.resize(0, 0);
  }

 private:
  template <typename D>
  void assign(const Eigen::MatrixBase<D>& m) {
    if (this->data() == nullptr && this->size() == 0) {  // an empty Param takes any shape
      own_ = m;
      rebind(own_.data(), own_.rows(), own_.cols());
      return;
    }
    if (m.rows() != this->rows() || m.cols() != this->cols())
      detail::fail("weight assignment: expected shape ", detail::shape_string(this->rows(), this->cols()),
                   ", received ", detail::shape_string(m.rows(), m.cols()));
    Base::operator=(m);
  }
  void rebind(Scalar* data, Index rows, Index cols) { new (static_cast<Base*>(this)) Base(data, rows, cols); }

  RowMatrix<Scalar> own_;
};

/// One weight tensor of a layer. Trainable weights carry a gradient of the same shape.
template <typename Scalar>
struct Weight {
  std::string name;     // "kernel", "bias", "gamma", "beta", "moving_mean", "moving_variance"
  Param<Scalar>* value;  // (rows × cols), Keras layout
  Param<Scalar>* grad;   // same shape, or nullptr when not trainable
  bool trainable() const { return grad != nullptr; }
};

/// The flat buffers that hold a model's weights. Each tensor starts on a 16-byte boundary; the few
/// elements of padding between tensors stay zero in values, gradients and optimizer slots alike,
/// so element-wise updates over the whole buffer leave them zero.
template <typename Scalar>
class ParameterStore {
 public:
  /// Where one tensor lives in its buffer.
  struct Entry {
    std::string name;
    Index offset = 0;
    Index rows = 0;
    Index cols = 0;
  };

  ParameterStore() = default;
  explicit ParameterStore(const std::vector<Weight<Scalar>>& weights) { adopt(weights); }
  ParameterStore(const ParameterStore&) = delete;
  ParameterStore& operator=(const ParameterStore&) = delete;
  ParameterStore(ParameterStore&&) noexcept = default;
  ParameterStore& operator=(ParameterStore&&) noexcept = default;

  /// Lays the weights out in the given order (trainable ones in `values`/`grads`, the others in
  /// `fixed`), copies their current values in and points every Param at its slice.
  void adopt(const std::vector<Weight<Scalar>>& weights) {
    trainable_.clear();
    fixed_entries_.clear();
    Index size = 0, fixed_size = 0;
    count_ = 0;
    for (const auto& w : weights) {
      if (w.trainable()) count_ += w.value->size();
      auto& list = w.trainable() ? trainable_ : fixed_entries_;
      Index& end = w.trainable() ? size : fixed_size;
      list.push_back({w.name, end, w.value->rows(), w.value->cols()});
      end += padded(w.value->size());
    }
    Vector<Scalar> values, grads, fixed;
    try {
      values.setZero(size);
      grads.setZero(size);
      fixed.setZero(fixed_size);
    } catch (const std::bad_alloc&) {
      detail::fail("could not allocate the parameter store: ", size, " trainable and ", fixed_size,
                   " non-trainable values (", static_cast<double>(2 * size + fixed_size) * sizeof(Scalar), " bytes)");
    }
    std::size_t t = 0, f = 0;
    for (const auto& w : weights) {
      if (w.trainable()) {
        const Index at = trainable_[t++].offset;
        std::copy_n(w.value->data(), w.value->size(), values.data() + at);
        std::copy_n(w.grad->data(), w.grad->size(), grads.data() + at);
      } else {
        std::copy_n(w.value->data(), w.value->size(), fixed.data() + fixed_entries_[f++].offset);
      }
    }
    values_.swap(values);
    grads_.swap(grads);
    fixed_.swap(fixed);
    t = f = 0;
    for (const auto& w : weights) {
      if (w.trainable()) {
        const Index at = trainable_[t++].offset;
        w.value->bind(values_.data() + at);
        w.grad->bind(grads_.data() + at);
      } else {
        w.value->bind(fixed_.data() + fixed_entries_[f++].offset);
      }
    }
  }

  /// For a copy of the layers that `main` holds (a worker thread's): the copy's weights view
  /// `main`'s values (read-only while the worker runs), its gradients get a flat buffer of their own
  /// laid out like `main`'s, so that the workers' gradients add up element by element.
  void adopt_sharing(const std::vector<Weight<Scalar>>& weights, ParameterStore& main) {
    trainable_ = main.trainable_;
    fixed_entries_ = main.fixed_entries_;
    count_ = main.count_;
    values_.resize(0);
    fixed_.resize(0);
    grads_ = Vector<Scalar>::Zero(main.size());
    std::size_t t = 0, f = 0;
    for (const auto& w : weights) {
      const auto& list = w.trainable() ? trainable_ : fixed_entries_;
      const std::size_t i = w.trainable() ? t++ : f++;
      if (i >= list.size() || list[i].rows != w.value->rows() || list[i].cols != w.value->cols())
        detail::fail("ParameterStore: weight '", w.name, "' of the copy does not match the original's layout");
      if (w.trainable()) {
        w.value->share(main.values_.data() + list[i].offset);
        w.grad->bind(grads_.data() + list[i].offset);
      } else {
        w.value->share(main.fixed_.data() + list[i].offset);
      }
    }
  }

  /// Elements of the trainable buffers (padding included).
  Index size() const { return values_.size(); }
  Scalar* values() { return values_.data(); }
  const Scalar* values() const { return values_.data(); }
  Scalar* grads() { return grads_.data(); }
  const Scalar* grads() const { return grads_.data(); }
  /// The trainable tensors in store order (the order optimizers and files see them).
  const std::vector<Entry>& trainable() const { return trainable_; }
  /// Number of trainable elements without padding.
  Index count_trainable() const { return count_; }

  /// Element offsets are rounded up to this many elements (16 bytes).
  static constexpr Index alignment = 16 / static_cast<Index>(sizeof(Scalar));
  static Index padded(Index n) { return (n + alignment - 1) / alignment * alignment; }

 private:
  Vector<Scalar> values_, grads_, fixed_;
  std::vector<Entry> trainable_, fixed_entries_;
  Index count_ = 0;
};

}  // namespace kerascpp
