// The KV cache of several sequences at once ("slots"), allocated once for `capacity` positions
// each in the layout the op interface reads. Slots can be copied into one another (beam search
// reordering its beams, a prompt shared by several sequences), and a copy moves only the rows
// where the two slots differ: every row remembers which forward pass wrote it, so rows that two
// beams inherited from a common ancestor are never copied again.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "kernels/ops.h"
#include "models/model_config.h"

namespace phirun {

class KvCache {
 public:
  // Throws std::runtime_error when the cache would not fit in this machine's memory. The memory
  // is not touched here: a page costs nothing until a position on it is written. `capacity`
  // rows per slot: for a sliding-window model fewer than the positions, a ring (see
  // kv_positions_needed) that keeps the last `capacity` positions.
  KvCache(const ModelConfig& config, TensorType type, int64_t n_slots, int64_t capacity);

  int64_t n_slots() const { return n_slots_; }
  int64_t capacity() const { return capacity_; }
  uint64_t bytes() const { return bytes_; }
  static uint64_t bytes_per_position(const ModelConfig& config, TensorType type);

  // The per-layer views of one slot, for the forward pass.
  std::span<const KvLayerView> layers(int64_t slot) const { return views_[size_t(slot)]; }

  // Positions held by a slot: rows 0 .. length-1 are valid.
  int64_t length(int64_t slot) const { return int64_t(row_ids_[size_t(slot)].size()); }
  // A forward pass has just written rows [length(slot), end) of the slot.
  void rows_written(int64_t slot, int64_t end);
  // Forgets the rows from `length` on. Throws when a ring no longer holds the keys that the
  // position `length` would attend (rewinding further than the ring's slack).
  void truncate(int64_t slot, int64_t length);
  // Makes slot `to` hold the first `length` rows of slot `from` (length <= length(from)),
  // copying only the rows in which the two differ.
  void copy_sequence(int64_t from, int64_t to, int64_t length);

  // Rows copied by copy_sequence so far, over all layers counted once (tests and statistics).
  uint64_t rows_copied() const { return rows_copied_; }

 private:
  // Copies positions [begin, end) (end - begin <= capacity) to the same rows of the other slot.
  void copy_rows(int64_t from, int64_t to, int64_t begin, int64_t end);
  void copy_row_run(int64_t from, int64_t to, int64_t first_row, int64_t n_rows);

  int64_t n_slots_, capacity_;
  int64_t window_ = 0;  // the model's sliding window, 0 for none
  uint64_t bytes_ = 0;
  uint64_t element_bytes_ = 0;
  std::unique_ptr<uint8_t[]> storage_;  // uninitialized: a position is written before it is read
  std::vector<std::vector<KvLayerView>> views_;
  std::vector<std::vector<uint64_t>> row_ids_;  // per slot: which write produced each row
  uint64_t next_row_id_ = 1;
  uint64_t rows_copied_ = 0;
};

}  // namespace phirun
