// admin.go: the metadata and admin scenarios (Client metadata and ClusterAdmin).
package main

import (
	"errors"
	"time"

	"github.com/IBM/sarama"
)

func (d *driver) metadata() {
	// sarama sends ApiVersions on every new connection (Config.ApiVersionsRequest,
	// on by default) and clamps its request versions to the answer.
	if err := d.client.RefreshMetadata(d.topic); err != nil {
		fail("Metadata: %v", err)
	}
	brokers := d.client.Brokers()
	if len(brokers) != 1 {
		fail("Metadata lists %d brokers, want 1", len(brokers))
	}
	b := brokers[0]
	if b.Addr() != d.bootstrap {
		fail("Metadata broker %d is %s, want the bootstrap %s", b.ID(), b.Addr(), d.bootstrap)
	}
	logf("Metadata: one broker, node %d at %s (the bootstrap address)", b.ID(), b.Addr())
	ps, err := d.client.Partitions(d.topic)
	if err != nil || len(ps) != numPartitions {
		fail("Metadata: %s has partitions %v (err %v), want %d", d.topic, ps, err, numPartitions)
	}
	for p := int32(0); p < numPartitions; p++ {
		leader, err := d.client.Leader(d.topic, p)
		if err != nil || leader.ID() != b.ID() {
			fail("Metadata: %s partition %d: leader %v (err %v), want node %d", d.topic, p, leader, err, b.ID())
		}
	}
	logf("Metadata: %s has partitions 0..5, each led by node %d", d.topic, b.ID())

	// The admin client's view, through DescribeCluster (config.Version >= 2.8).
	admin := d.newAdmin()
	defer admin.Close()
	cluster, controller, err := admin.DescribeCluster()
	if err != nil {
		fail("DescribeCluster: %v", err)
	}
	if len(cluster) != 1 {
		fail("DescribeCluster lists %d brokers, want 1", len(cluster))
	}
	if cluster[0].ID() != b.ID() || cluster[0].Addr() != d.bootstrap || controller != b.ID() {
		fail("DescribeCluster: node %d at %s, controller %d; want node %d at %s, the controller",
			cluster[0].ID(), cluster[0].Addr(), controller, b.ID(), d.bootstrap)
	}
	logf("DescribeCluster: node %d at %s, the controller", b.ID(), d.bootstrap)
}

func (d *driver) newAdmin() sarama.ClusterAdmin {
	admin, err := sarama.NewClusterAdmin([]string{d.bootstrap}, newConfig())
	if err != nil {
		fail("cluster admin: %v", err)
	}
	return admin
}

func (d *driver) admin() {
	name := d.topic + "-admin"
	admin := d.newAdmin()
	defer admin.Close()
	describe := func() int {
		mds, err := admin.DescribeTopics([]string{name})
		if err != nil || len(mds) != 1 || mds[0].Name != name || !errors.Is(mds[0].Err, sarama.ErrNoError) {
			fail("describe %s: %v (%v)", name, err, mds)
		}
		return len(mds[0].Partitions)
	}
	retention := func() string {
		entries, err := admin.DescribeConfig(sarama.ConfigResource{Type: sarama.TopicResource, Name: name, ConfigNames: []string{"retention.ms"}})
		if err != nil {
			fail("describe configs of %s: %v", name, err)
		}
		for _, e := range entries {
			if e.Name == "retention.ms" {
				if e.Source != sarama.SourceTopic {
					fail("retention.ms = %s has source %v, want a topic override (DYNAMIC_TOPIC_CONFIG)", e.Value, e.Source)
				}
				return e.Value
			}
		}
		fail("describe configs of %s: no retention.ms", name)
		return ""
	}
	listed := func() bool {
		topics, err := admin.ListTopics()
		if err != nil {
			fail("list topics: %v", err)
		}
		_, ok := topics[name]
		return ok
	}

	hour, twoHours := "3600000", "7200000"
	detail := &sarama.TopicDetail{NumPartitions: 3, ReplicationFactor: 1, ConfigEntries: map[string]*string{"retention.ms": &hour}}
	if err := admin.CreateTopic(name, detail, false); err != nil {
		fail("create %s: %v", name, err)
	}
	logf("created %s with 3 partitions, retention.ms=3600000", name)
	if err := admin.CreateTopic(name, &sarama.TopicDetail{NumPartitions: 3, ReplicationFactor: 1}, false); !errors.Is(err, sarama.ErrTopicAlreadyExists) {
		fail("creating %s again: %v, want TOPIC_ALREADY_EXISTS (36)", name, err)
	}
	logf("creating it again: TOPIC_ALREADY_EXISTS")
	if !listed() {
		fail("list topics: %s not listed", name)
	}
	logf("list topics: %s listed", name)
	if n := describe(); n != 3 {
		fail("describe %s: %d partitions, want 3", name, n)
	}
	logf("describe: 3 partitions")
	if v := retention(); v != hour {
		fail("retention.ms = %s, want 3600000", v)
	}
	logf("describe configs: retention.ms = 3600000 (topic override)")

	err := admin.IncrementalAlterConfig(sarama.TopicResource, name, map[string]sarama.IncrementalAlterConfigsEntry{
		"retention.ms": {Operation: sarama.IncrementalAlterConfigsOperationSet, Value: &twoHours},
	}, false)
	if err != nil {
		fail("incremental alter retention.ms of %s: %v", name, err)
	}
	if v := retention(); v != twoHours {
		fail("after incremental alter: retention.ms = %s, want 7200000", v)
	}
	logf("incremental alter retention.ms to 7200000: describe says 7200000")

	if err := admin.CreatePartitions(name, 5, nil, false); err != nil {
		fail("create partitions (total 5) of %s: %v", name, err)
	}
	if n := describe(); n != 5 {
		fail("after adding partitions: %d partitions, want 5", n)
	}
	logf("create partitions to 5: describe says 5")

	if err := admin.DeleteTopic(name); err != nil {
		fail("delete %s: %v", name, err)
	}
	logf("delete %s: accepted", name)
	deadline := time.Now().Add(10 * time.Second)
	for listed() {
		if time.Now().After(deadline) {
			fail("%s still listed 10 s after its deletion", name)
		}
		time.Sleep(200 * time.Millisecond)
	}
	logf("deleted %s: no longer listed", name)
}
