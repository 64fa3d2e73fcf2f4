package sandbox

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"syscall"
	"time"
)

// Ports are the loopback ports one sandbox listens on. Zero means "choose a
// free one", so several sandboxes can run side by side.
type Ports struct {
	APIServer         int `json:"apiServer"`
	EtcdClient        int `json:"etcdClient"`
	EtcdPeer          int `json:"etcdPeer"`
	ControllerManager int `json:"controllerManager"`
	Scheduler         int `json:"scheduler"`
	Kwok              int `json:"kwok"`
	MetricsServer     int `json:"metricsServer"`
}

func (p *Ports) fields() []struct {
	name string
	port *int
} {
	return []struct {
		name string
		port *int
	}{
		{"kube-apiserver", &p.APIServer},
		{"etcd client", &p.EtcdClient},
		{"etcd peer", &p.EtcdPeer},
		{"kube-controller-manager", &p.ControllerManager},
		{"kube-scheduler", &p.Scheduler},
		{"kwok", &p.Kwok},
		{"metrics-server", &p.MetricsServer},
	}
}

// ErrPortInUse marks a requested port that something else already holds.
var ErrPortInUse = errors.New("port in use")

// resolve checks the requested ports are free and picks free ones for the
// rest. The chosen ports are held open until all are picked so two picks
// cannot collide; a race with another program remains possible and shows up
// as the component's bind error.
func (p *Ports) resolve() error {
	var held []net.Listener
	defer func() {
		for _, l := range held {
			_ = l.Close()
		}
	}()
	for _, f := range p.fields() {
		if *f.port != 0 {
			l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(*f.port)))
			if err != nil {
				if errors.Is(err, syscall.EADDRINUSE) {
					return fmt.Errorf("%s port %d: %w by another program; choose another port or stop what listens there (ss -ltnp 'sport = :%d')",
						f.name, *f.port, ErrPortInUse, *f.port)
				}
				return fmt.Errorf("%s port %d: %w", f.name, *f.port, err)
			}
			held = append(held, l)
			continue
		}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return fmt.Errorf("find a free port for %s: %w", f.name, err)
		}
		held = append(held, l)
		*f.port = l.Addr().(*net.TCPAddr).Port
	}
	return nil
}

// bound returns the ports that still have a listener on them.
func (p *Ports) bound() []int {
	var out []int
	for _, f := range p.fields() {
		if *f.port == 0 {
			continue
		}
		conn, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(*f.port)), 200*time.Millisecond)
		if err == nil {
			_ = conn.Close()
			out = append(out, *f.port)
		}
	}
	return out
}
