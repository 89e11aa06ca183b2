package state

import "context"

// Delivered reports whether the provider already accepted the notification
// with this key (see MarkDelivered).
func (s *Store) Delivered(ctx context.Context, trackingID, key string) (bool, error) {
	return s.rdb.SIsMember(ctx, sentKey(trackingID), key).Result()
}

// MarkDelivered records that the provider accepted the notification, so a
// task run again (a crash before asynq recorded success, a re-enqueue from
// the outbox) does not send it twice.
func (s *Store) MarkDelivered(ctx context.Context, trackingID, key string) error {
	pipe := s.rdb.TxPipeline()
	pipe.SAdd(ctx, sentKey(trackingID), key)
	pipe.PExpire(ctx, sentKey(trackingID), s.opts.Retention)
	_, err := pipe.Exec(ctx)
	return err
}

// BeginSend records that an attempt is about to hand the notification to the
// provider and reports whether an earlier attempt did (see
// dispatcher.Ledger).
func (s *Store) BeginSend(ctx context.Context, trackingID, key string) (again bool, err error) {
	pipe := s.rdb.TxPipeline()
	added := pipe.SAdd(ctx, attemptedKey(trackingID), key)
	pipe.PExpire(ctx, attemptedKey(trackingID), s.opts.Retention)
	if _, err := pipe.Exec(ctx); err != nil {
		return false, err
	}
	return added.Val() == 0, nil
}
